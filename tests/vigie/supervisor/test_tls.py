"""The supervisor and cameras over HTTPS: the certificate pinned on first use and stored, a
changed one a security incident (audited once), trusted again by an administrator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers.supervisor_harness import World, until, world
from vigie.models import AuditEvent, Camera


def _pins(w: World) -> dict[str, str | None]:
    with w.sessions() as session:
        return {c.id: c.tls_fingerprint for c in session.scalars(select(Camera))}


def _audited(w: World, action: str) -> list[dict]:
    with w.sessions() as session:
        return [
            json.loads(e.detail) | {"camera": e.object_id}
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


def _trust(w: World, camera_id: str, fingerprint: str) -> None:
    """What ``PUT /api/v1/cameras/{id}/certificate`` stores (tested in tests/vigie/routes)."""
    with w.sessions() as session:
        session.get(Camera, camera_id).tls_fingerprint = fingerprint
        session.commit()


async def _run(w: World) -> None:
    async with w.supervisor():
        up = {"cam-0": ("up", []), "cam-1": ("up", [])}
        await until(lambda: w.states() == up and all(_pins(w).values()))
        await asyncio.to_thread(w.set_fault, 0, {"kind": "rekeyed"})
        await until(lambda: w.states()["cam-0"] == ("degraded", ["certificate_changed"]))
        await asyncio.sleep(1.5)  # more checks meet the new certificate: audited once
        (changed,) = _audited(w, "camera.certificate_changed")
        await asyncio.to_thread(_trust, w, "cam-0", changed["presented_sha256"])
        await until(lambda: w.states() == up, timeout=30)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_changed_certificate_is_a_security_incident_until_trusted(
    tmp_path: Path, database_url: str
) -> None:
    overrides = {f"cam-{i}": {"model": "", "tls": True} for i in range(2)}
    with world(
        tmp_path,
        database_url,
        cameras=2,
        faults={},
        overrides=overrides,
        personalities={0: "hikvision"},
        tls=[0, 1],
    ) as w:
        asyncio.run(_run(w))
        pins = _pins(w)
        pinned = _audited(w, "camera.certificate_pinned")
        (changed,) = _audited(w, "camera.certificate_changed")
        (incident,) = w.incidents()
    assert {p["camera"] for p in pinned} == {"cam-0", "cam-1"}
    assert changed["camera"] == "cam-0" and changed["pinned_sha256"] != changed["presented_sha256"]
    assert pins["cam-0"] == changed["presented_sha256"]  # the trusted one
    assert incident.camera_id == "cam-0" and incident.seen_causes == ["certificate_changed"]
    assert incident.severity == "major"  # no picture: nothing is sent to it
