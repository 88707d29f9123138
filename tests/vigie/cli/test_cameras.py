"""``vigie cameras import`` and ``purge-observations``, run as the real console script."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from tests.helpers.cli import run
from tests.helpers.inventory_csv import GOOD, HEADER
from tests.helpers.service import seed
from vigie import db
from vigie.credentials import generate_key
from vigie.models import AuditEvent, Camera


def test_help() -> None:
    for command in ("import", "purge-observations"):
        result = run("cameras", command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout


def test_import_then_purge(tmp_path: Path, engine: Engine, database_url: str) -> None:
    seed(engine)
    env = {"VIGIE_DATABASE_URL": database_url, "VIGIE_CREDENTIALS_KEYS": generate_key()}
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + GOOD + "cam-3,X,27056,north,1,h,80,,,\n", encoding="utf-8")
    refused = run("cameras", "import", str(bad), env=env)
    assert refused.returncode == 1
    assert f"{bad}:line 4 (camera cam-3): latitude 'north' is not a number" in refused.stderr
    assert "Traceback" not in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD, encoding="utf-8")
    imported = run("cameras", "import", str(good), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "2 caméra(s) créée(s), 0 mise(s) à jour" in imported.stdout
    assert "s3cret-pass" not in imported.stdout + imported.stderr
    with db.session_scope(db.session_factory(engine)) as session:
        assert session.scalars(select(Camera.id).order_by(Camera.id)).all() == ["cam-1", "cam-2"]
        actions = session.scalars(select(AuditEvent.action)).all()
        assert actions == ["camera.import"]
    purged = run("cameras", "purge-observations", "--days", "7", env=env)
    assert purged.returncode == 0, purged.stderr
    assert "0 observation(s) de plus de 7 jours supprimée(s)" in purged.stdout
