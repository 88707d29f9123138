"""``/metrics`` of a live `vigie serve` app: the supervisor started by the lifespan, a
monitoring API token, the Prometheus text format as prometheus_client parses it."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.service import make_settings
from tests.helpers.supervisor_harness import world
from vigie import db
from vigie.api import create_app
from vigie.auth.apitokens import create_api_token
from vigie.auth.roles import Role

FAST = {
    "supervise": True,
    "supervise_liveness_interval_s": 0.5,
    "supervise_full_interval_s": 1.0,
    "supervise_stream_interval_s": 0,
    "supervise_camera_timeout_s": 0.5,
    "supervise_flush_s": 0.1,
}


def _samples(text: str) -> dict[str, list]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def _token(engine, role: Role) -> str:
    with db.session_scope(db.session_factory(engine)) as session:
        _row, token = create_api_token(
            session, name=f"{role}-scraper", role=role, days=1, actor="admin", actor_role="admin"
        )
    return token


def test_metrics_need_a_monitoring_token_and_parse(tmp_path: Path, database_url: str) -> None:
    with world(tmp_path, database_url, cameras=2, faults={1: {"kind": "offline"}}) as w:
        settings = make_settings(
            database_url,
            secret_key=w.settings.secret_key.get_secret_value(),
            credentials_keys=w.settings.credentials_keys.get_secret_value(),
            **FAST,
        )
        monitoring = {"Authorization": f"Bearer {_token(w.engine, Role.MONITORING)}"}
        operator = {"Authorization": f"Bearer {_token(w.engine, Role.OPERATOR)}"}
        with TestClient(create_app(settings)) as client:
            assert client.app.state.supervisor is not None  # started by the lifespan
            assert client.get("/metrics").status_code == 401
            assert client.get("/metrics", headers=operator).status_code == 403
            deadline = time.monotonic() + 30
            while True:
                response = client.get("/metrics", headers=monitoring)
                assert response.status_code == 200, response.text
                assert response.headers["content-type"].startswith("text/plain")
                samples = _samples(response.text)
                states = {s.labels["state"]: s.value for s in samples["vigie_cameras"]}
                if (states["up"] == 1 and states["down"] == 1) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            # A monitoring token reads nothing else.
            assert client.get("/api/v1/status", headers=monitoring).status_code == 403
            # A fresh snapshot goes through the running supervisor's client.
            fresh = client.post(
                "/api/v1/cameras/cam-0/snapshot",
                headers=operator,
                json={"reason": "contrôle après intervention", "fresh": True},
            )
            assert fresh.status_code == 200, fresh.text
            assert fresh.content[:2] == b"\xff\xd8" and fresh.headers["x-snapshot-time"]
        assert states == {"up": 1, "down": 1, "degraded": 0, "maintenance": 0, "unknown": 0}
        kinds = {
            s.labels["kind"]
            for s in samples["vigie_check_duration_seconds"]
            if s.name.endswith("_count") and s.value > 0
        }
        assert kinds == {"liveness", "full"}
        errors = {
            (s.labels["kind"], s.labels["error"]): s.value
            for s in samples["vigie_check_errors"]
            if s.name.endswith("_total")
        }
        # DOWN took K = 3 failed checks, liveness and full alike, refused by the offline camera.
        assert sum(v for (_kind, error), v in errors.items() if error == "refused") >= 3
        lag = {s.labels["quantile"]: s.value for s in samples["vigie_scheduler_lag_seconds"]}
        assert set(lag) == {"0.5", "0.99", "1"} and 0 <= lag["0.5"] <= lag["0.99"] <= lag["1"]
        for name in ("vigie_checks_skipped", "vigie_writer_queue", "vigie_supervisor_exceptions"):
            assert name in samples
        assert any(s.value > 0 for s in samples["vigie_writer_batch_duration_seconds"])
        assert samples["vigie_supervised_cameras"][0].value == 2
        # The webhook outbox's series (no subscription here: nothing pending, none unhealthy).
        assert samples["vigie_webhook_pending"][0].value == 0
        health = {s.labels["health"]: s.value for s in samples["vigie_webhook_subscriptions"]}
        assert health == {"healthy": 0, "unhealthy": 0, "disabled": 0}
        # The escalation outbox's series (no rule here: nothing waiting).
        waiting = {s.labels["channel"]: s.value for s in samples["vigie_notifications_pending"]}
        assert waiting == {"email": 0, "sms": 0}
        # The live stream's counts (no client in this test).
        assert samples["vigie_live_clients"][0].value == 0
        assert "vigie_live_dropped" in samples
