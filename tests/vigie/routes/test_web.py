"""The dashboard's shell and static files: public, no data, a CSP relaxed only for the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers.service import Service, make_settings, seed
from vigie import db
from vigie.api import create_app
from vigie.routes.web import page_policy


def test_the_page_is_served_with_a_self_only_policy(service: Service) -> None:
    response = service.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert '<html lang="fr">' in response.text
    assert 'content=""' in response.text  # no tile server by default


def test_static_files_are_served_and_the_api_keeps_its_strict_policy(service: Service) -> None:
    script = service.client.get("/static/js/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert service.client.get("/static/vendor/leaflet/leaflet.css").status_code == 200
    api = service.client.get("/healthz")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api.py",
        "/static/%2E%2E/api.py",
        "/static/..%2F..%2Fsettings.py",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/vendor/README.md",
        "/static/index.html",
        "/static/nope.js",
        "/static/js",
        "/static/%00",  # a NUL made resolve() raise: an anonymous 500 (issue 16)
        "/static/js/app.js%00.js",
    ],
)
def test_nothing_but_page_assets_leaves_the_web_folder(service: Service, path: str) -> None:
    response = service.client.get(path)
    assert response.status_code == 404, path
    assert "import" not in response.text and "root:" not in response.text


def test_a_tile_server_is_allowed_for_pictures_only() -> None:
    policy = page_policy("https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' blob: https://*.tiles.example.org;" in policy
    assert "connect-src 'self';" in policy


def test_the_configured_tile_url_reaches_the_page_escaped(database_url: str) -> None:
    settings = make_settings(database_url, map_tile_url='https://t.example/{z}/{x}/{y}.png?a="b"')
    engine = db.make_engine(settings.db_url)
    seed(engine)
    with TestClient(create_app(settings)) as client:
        response = client.get("/")
    engine.dispose()
    assert 'content="https://t.example/{z}/{x}/{y}.png?a=&quot;b&quot;"' in response.text
    assert "img-src 'self' blob: https://t.example;" in response.headers["content-security-policy"]


def test_a_tile_url_without_its_placeholders_is_refused(tmp_path: Path) -> None:
    from vigie.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="VIGIE_MAP_TILE_URL"):
        make_settings(f"sqlite:///{tmp_path / 'x.db'}", map_tile_url="https://t.example/tile.png")
