"""Account enumeration and remote lockout at the token endpoint (issue 16, item 7).

Real requests through the app (``TestClient``) on SQLite and PostgreSQL:

- a wrong password for an existing account, an unknown account and a locked account take the
  same time to answer (one password-hash verification each): medians of 15 interleaved tries
  within 30 % (before the fix: about 10 ms locked, 50-100 ms otherwise);
- a stranger's wrong passwords for ``admin`` lock ``admin`` out of the stranger's address only:
  the admin still logs in from another address.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from itertools import cycle

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers.service import PASSWORD, USERS, Service, make_settings, seed
from vigie import db
from vigie.api import create_app

ATTACKER = ("198.51.100.66", 40000)
ADMIN_DESK = ("192.0.2.10", 50000)
TRIES = 15
ROUNDS = 3
BOUND = 1.3  # the slowest median at most 30 % above the fastest


def _form(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


@pytest.fixture
def app_and_service(database_url: str) -> Iterator[tuple[FastAPI, Service]]:
    # The per-address rate limit is not what these tests look at.
    settings = make_settings(database_url, login_rate_per_minute=10_000)
    engine = db.make_engine(settings.db_url)
    seed(engine)
    app = create_app(settings)
    with TestClient(app, client=ATTACKER) as client:
        yield app, Service(client=client, settings=settings, engine=engine)
    engine.dispose()


def _seconds(client: TestClient, username: str, password: str) -> float:
    started = time.perf_counter()
    response = client.post("/api/v1/auth/token", data=_form(username, password))
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert response.json()["detail"] == "invalid credentials"
    return elapsed


def test_known_unknown_and_locked_accounts_answer_in_the_same_time(
    app_and_service: tuple[FastAPI, Service],
) -> None:
    _, service = app_and_service
    client, limit = service.client, service.settings.login_max_failures
    for _ in range(limit):  # lock "gendarme" (from this address)
        _seconds(client, "gendarme", "wrong password, again")
    # Known accounts take turns so that none of them locks during the measurement.
    known = cycle(name for name in USERS if name != "gendarme")
    for _ in range(3):  # warm-up: first connections, caches
        _seconds(client, next(known), "wrong password, again")
        _seconds(client, "nobody-here", "wrong password, again")
    rounds = []
    for _ in range(ROUNDS):  # a busy machine may spoil a round; a real difference spoils them all
        times: dict[str, list[float]] = {"known": [], "unknown": [], "locked": []}
        for n in range(TRIES):  # interleaved, so that a busy machine slows all three alike
            times["known"].append(_seconds(client, next(known), f"wrong password {n}"))
            times["unknown"].append(_seconds(client, f"nobody-{n}", f"wrong password {n}"))
            times["locked"].append(_seconds(client, "gendarme", f"wrong password {n}"))
        medians = {kind: statistics.median(values) for kind, values in times.items()}
        rounds.append({kind: f"{value * 1000:.1f} ms" for kind, value in medians.items()})
        if max(medians.values()) <= BOUND * min(medians.values()):
            return
    pytest.fail(f"medians differ by more than {BOUND - 1:.0%} in every round: {rounds}")


@pytest.mark.parametrize("attempts", [5, 50])
def test_wrong_passwords_from_one_address_do_not_lock_the_admin_out_elsewhere(
    app_and_service: tuple[FastAPI, Service], attempts: int
) -> None:
    app, service = app_and_service
    for n in range(attempts):
        response = service.client.post("/api/v1/auth/token", data=_form("admin", f"guess {n}"))
        assert response.status_code == 400
    # The stranger's address is locked out of admin, even with the right password...
    locked = service.client.post("/api/v1/auth/token", data=_form("admin", PASSWORD))
    assert locked.status_code == 400
    # ...the admin, at their desk, is not.
    desk = TestClient(app, client=ADMIN_DESK)
    response = desk.post("/api/v1/auth/token", data=_form("admin", PASSWORD))
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"
