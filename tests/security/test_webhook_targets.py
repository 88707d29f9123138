"""Server-side request forgery through webhooks, and URLs that split the request.

An administrator's webhook URL makes the service send requests and ``/test`` reports what
answered: without a rule it probes the service's own machine, the cloud's metadata address and
the private network. A URL with CR/LF was accepted, then failed with tracebacks while the
subscription stayed "healthy". Each attack runs against the real API, with a real receiver
listening on loopback that must receive nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.helpers.service import Service, make_settings, running_service
from tests.helpers.supervision_data import add_cameras
from tests.helpers.webhook_data import FAST, write_outage
from tests.helpers.webhook_receiver import Receiver
from vigie import db
from vigie.credentials import KeyRing
from vigie.models import Webhook
from vigie.webhooks.subscriptions import create_webhook
from vigie.webhooks.targets import parse_networks, pin, refusal

FORBIDDEN = [
    "http://127.0.0.1:{port}/hooks",
    "http://localhost:{port}/hooks",
    "http://[::1]:{port}/hooks",
    "http://[::ffff:127.0.0.1]:{port}/hooks",
    "http://0.0.0.0:{port}/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hooks",
    "http://192.168.1.20:5432/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://2130706433:{port}/",  # 127.0.0.1 as one integer
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def guarded(database_url: str) -> Iterator[Service]:
    """The service as installed: no network allowed besides public addresses."""
    settings = make_settings(database_url, webhook_allowed_networks="", **FAST)
    # the dispatcher tests write an outage of one of the cameras
    with running_service(settings, prepare=add_cameras) as service:
        yield service


def test_a_webhook_to_this_machine_or_a_private_network_is_refused(
    guarded: Service, receiver: Receiver
) -> None:
    admin = guarded.headers("admin")
    for template in FORBIDDEN:  # one service for all: starting one per URL took a minute
        url = template.format(port=receiver.port)
        answer = guarded.client.post(
            "/api/v1/webhooks", json={"name": "probe", "url": url}, headers=admin
        )
        assert answer.status_code in (400, 422), (url, answer.text)
        assert "VIGIE_WEBHOOK_ALLOWED_NETWORKS" in answer.text, (url, answer.text)
    assert receiver.snapshot() == []
    with db.session_factory(guarded.engine)() as session:
        assert session.scalars(select(Webhook)).all() == []


def test_a_url_that_would_split_the_request_is_refused(guarded: Service) -> None:
    admin = guarded.headers("admin")
    for url in (
        "https://centre.example/hooks\r\nX-Injected: 1",
        "https://centre.example/hooks\nX-Injected: 1",
        "https://centre.example/ho oks",
        "https://centre.example/hooks\x00",
    ):
        answer = guarded.client.post(
            "/api/v1/webhooks", json={"name": "split", "url": url}, headers=admin
        )
        assert answer.status_code in (400, 422), (url, answer.text)
        assert "control characters" in answer.text


def _stored_before_the_rules(service: Service, name: str, url: str) -> int:
    """A subscription as an earlier version (or a database edit) could have stored it."""
    with db.session_scope(db.session_factory(service.engine)) as session:
        row, _ = create_webhook(
            session,
            KeyRing.from_settings(service.settings),
            name=name,
            url="https://centre.example/hooks",
            actor="admin",
            actor_role="admin",
        )
        row.url = url
        return row.id


def test_the_test_button_does_not_probe_a_forbidden_address(
    guarded: Service, receiver: Receiver
) -> None:
    webhook_id = _stored_before_the_rules(guarded, "old", receiver.url)
    answer = guarded.client.post(
        f"/api/v1/webhooks/{webhook_id}/test", headers=guarded.headers("admin")
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["delivered"] is False and result["status"] is None
    assert "loopback" in result["error"]
    assert receiver.snapshot() == []


@pytest.mark.parametrize(
    ("name", "url"),
    [("loopback", None), ("split", "https://centre.example/hooks\r\nX-Injected: 1")],
)
def test_the_dispatcher_sends_nothing_there_and_the_subscription_turns_unhealthy(
    guarded: Service, receiver: Receiver, name: str, url: str | None, caplog
) -> None:
    webhook_id = _stored_before_the_rules(guarded, name, url or receiver.url)
    sessions = db.session_factory(guarded.engine)
    write_outage(sessions)  # the app's own dispatcher picks the events up
    unhealthy_after = guarded.settings.webhook_unhealthy_after
    deadline = time.monotonic() + 30
    failures = 0
    while failures < unhealthy_after and time.monotonic() < deadline:
        time.sleep(0.1)
        with sessions() as session:
            failures = session.get(Webhook, webhook_id).consecutive_failures
    assert failures >= unhealthy_after
    assert receiver.snapshot() == []
    listed = guarded.client.get("/api/v1/webhooks", headers=guarded.headers("admin")).json()
    (info,) = [w for w in listed if w["id"] == webhook_id]
    assert info["healthy"] is False
    assert not [r for r in caplog.records if r.exc_info], "a delivery failed with a traceback"


def test_an_allowed_network_is_reached_at_the_address_that_was_checked(
    receiver: Receiver,
) -> None:
    allowed = parse_networks("127.0.0.0/8")
    target = pin(f"http://localhost:{receiver.port}/hooks", allowed)
    assert target.url == f"http://127.0.0.1:{receiver.port}/hooks"
    assert target.host == f"localhost:{receiver.port}" and target.sni == "localhost"
    assert refusal(next(iter(allowed)).network_address, ()) is not None
    assert refusal(parse_networks("93.184.216.34")[0].network_address, ()) is None
