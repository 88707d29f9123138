"""The dashboard tests' real service and pages: what the fixtures of tests/vigie/web/conftest.py
yield (uvicorn on a port of 33000-33999, a watched chromium page), logging in, screenshots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from tests.helpers.browser import ARTIFACTS
from tests.helpers.dashboard_seed import Seeded
from tests.helpers.service import PASSWORD
from vigie.settings import Settings

PLAN_NAME = "eure-2026"
PORTS = range(33000, 34000)  # the dashboard tests' range


@dataclass
class Server:
    url: str
    settings: Settings
    seeded: Seeded
    users: dict[str, tuple[str, list[str]]]


@dataclass
class Watched:
    page: Page
    errors: list[str]
    requests: list[str]
    allowed_errors: list[str]


def login(page: Page, server: Server, username: str, path: str = "/") -> None:
    page.goto(server.url + path)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#top:not([hidden])" if "mur" not in path else ".wall")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    page.screenshot(path=str(shot))
    return shot
