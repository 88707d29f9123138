"""The notifier runs inside the service (``vigie serve``'s app) when a channel is configured."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from tests.helpers.notify_data import add_rule, notify_settings, open_incident
from tests.helpers.notify_servers import SmsGateway, SmtpServer
from tests.helpers.service import running_service
from tests.helpers.supervision_data import add_cameras
from vigie import db


def test_the_service_tells_level_one_of_an_open_incident(
    smtp: SmtpServer, gateway: SmsGateway, database_url: str
) -> None:
    settings = notify_settings(
        database_url, smtp_port=smtp.port, sms_url=gateway.url, notify_poll_seconds=0.05
    )

    def prepare(engine: Engine) -> None:
        add_cameras(engine)
        sessions = db.session_factory(engine)
        _, opened = open_incident(sessions)
        add_rule(sessions, opened)

    with running_service(settings, prepare=prepare) as service:
        assert service.client.app.state.notifier is not None
        deadline = time.monotonic() + 10
        while len(smtp.messages) + len(gateway.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    # the incident opened months before the test's clock: level 2 is due too, at once
    assert sorted(m["To"] for m in smtp.messages) == ["cadre@csu.example", "op@csu.example"]
    assert [r.body["to"] for r in gateway.requests] == ["+33600000002"]
