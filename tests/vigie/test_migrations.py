"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from tests.helpers.postgres import postgres_database
from vigie import db
from vigie.credentials import CredentialsError, KeyRing, generate_key, open_camera_password
from vigie.errors import ConfigurationError
from vigie.models import Base, Camera, CameraPicture, Mast
from vigie.settings import parse_key_ring
from vigie.supervisor.pictures import last_snapshot, snapshot_context

SECURITY_TABLES = {"users", "refresh_tokens", "api_tokens", "audit_events", "audit_head", "cameras"}


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """The migrations run from an empty database here (elsewhere tests get one at head)."""
    return empty_engine


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database, for the nodes that migrate it together."""
    with postgres_database() as url:
        yield url


def test_models_and_migrations_agree(engine: Engine) -> None:
    db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_security_migration_goes_down_and_up_again(engine: Engine) -> None:
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= SECURITY_TABLES
    db.downgrade(engine, "0001")
    assert not SECURITY_TABLES & set(inspect(engine).get_table_names())
    assert "communes" in inspect(engine).get_table_names()
    assert db.upgrade(engine) == db.head_revision()


def test_0006_binds_the_stored_passwords_to_their_cameras_addresses(engine: Engine) -> None:
    """What 0005 stored keeps working after the upgrade, now bound to host and port; without
    the keys the upgrade refuses before changing anything; the downgrade undoes it."""
    db.upgrade(engine, "0005")
    keys = generate_key()
    ring = KeyRing(parse_key_ring(keys))
    legacy = ring.encrypt("Onvif!Pass", context="camera:CAM-1")  # 0005's associated data
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO communes (code, nom, population) VALUES ('27056', 'Bernay', 1)")
        )
        connection.execute(
            text(
                "INSERT INTO cameras (id, name, commune_code, latitude, longitude, host, port, "
                "username, password_encrypted, model, created_at, updated_at, critical) VALUES "
                "('CAM-1', 'c', '27056', 49, 1, '10.27.0.10', 80, 'u', :p, '', :t, :t, false)"
            ),
            {"p": legacy, "t": now},
        )
    with pytest.raises(ConfigurationError, match="needs VIGIE_CREDENTIALS_KEYS"):
        db.upgrade(engine)
    assert db.current_revision(engine) == "0005"
    assert db.upgrade(engine, credentials_keys=keys) == db.head_revision()
    with db.session_scope(db.session_factory(engine)) as session:
        camera = session.get(Camera, "CAM-1")
        assert camera is not None and camera.basic_auth is False
        assert open_camera_password(ring, camera) == "Onvif!Pass"
        camera.port = 8080  # moved behind the API's back: the password stays where it was
        with pytest.raises(CredentialsError):
            open_camera_password(ring, camera)
        camera.port = 80
    db.downgrade(engine, "0005", credentials_keys=keys)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT password_encrypted FROM cameras")).scalar_one()
    assert ring.decrypt(stored, context="camera:CAM-1") == "Onvif!Pass"
    assert db.upgrade(engine, credentials_keys=keys) == db.head_revision()


def test_0014_adds_the_masts_cables_and_takes_them_away(engine: Engine) -> None:
    """A mast written before 0014 (no cable, no positions) reads back with no cable."""
    db.upgrade(engine, "0013")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO masts (id, commune, path) VALUES ('M-1', '27056', :p)"),
            {"p": '[{"kind": "PM", "id": "PM-1", "label": "PM 1"}]'},
        )
    db.upgrade(engine)
    assert "cable" in {c["name"] for c in inspect(engine).get_columns("masts")}
    with db.session_scope(db.session_factory(engine)) as session:
        mast = session.get(Mast, "M-1")
        assert mast is not None and mast.cable is None and mast.path[0]["id"] == "PM-1"
        mast.cable = [[1.15, 49.0], [1.16, 49.01]]
    db.downgrade(engine, "0013")
    assert "cable" not in {c["name"] for c in inspect(engine).get_columns("masts")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM masts")).scalar_one() == "M-1"
    assert db.upgrade(engine) == db.head_revision()


def test_0018_stores_the_snapshots_as_binary_and_back(engine: Engine) -> None:
    """A snapshot stored as base64 text before 0018 decrypts after it, from fewer bytes; one
    altered by hand is kept as it was (and still refused); the downgrade gives back the text."""
    db.upgrade(engine, "0017")
    ring = KeyRing(parse_key_ring(generate_key()))
    jpeg = bytes(range(256)) * 1000
    sealed = ring.encrypt_bytes(jpeg, context=snapshot_context("CAM-1"))
    version, key_id, blob = sealed.split(b":", 2)
    as_text = f"{version.decode()}:{key_id.decode()}:{base64.b64encode(blob).decode()}"  # 0017's
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO communes (code, nom, population) VALUES ('27056', 'Bernay', 1)")
        )
        for camera_id, stored in (("CAM-1", as_text), ("CAM-2", "v1:k0:not base64!")):
            connection.execute(
                text(
                    "INSERT INTO cameras (id, name, commune_code, latitude, longitude, host, "
                    "port, username, password_encrypted, model, created_at, updated_at, "
                    "critical) VALUES (:id, 'c', '27056', 49, 1, '10.27.0.10', 80, 'u', '', '', "
                    ":t, :t, false)"
                ),
                {"id": camera_id, "t": now},
            )
            connection.execute(
                text(
                    "INSERT INTO camera_pictures (camera_id, reference_frames, snapshot, "
                    "snapshot_at) VALUES (:id, 0, :s, :t)"
                ),
                {"id": camera_id, "s": stored, "t": now},
            )
    assert db.upgrade(engine) == db.head_revision()
    with db.session_scope(db.session_factory(engine)) as session:
        found = last_snapshot(session, "CAM-1", keys=ring)
        assert found is not None and found[0] == jpeg
        row = session.get(CameraPicture, "CAM-1")
        assert row is not None and isinstance(row.snapshot, bytes)
        assert len(row.snapshot) < 0.8 * len(as_text)
        with pytest.raises(CredentialsError, match="not encrypted data of this version"):
            last_snapshot(session, "CAM-2", keys=ring)
        altered = session.get(CameraPicture, "CAM-2")
        assert altered is not None and altered.snapshot == b"v1:k0:not base64!"
    db.downgrade(engine, "0017")
    with engine.connect() as connection:
        stored = dict(
            connection.execute(text("SELECT camera_id, snapshot FROM camera_pictures")).all()
        )
    assert stored == {"CAM-1": as_text, "CAM-2": "v1:k0:not base64!"}
    assert db.upgrade(engine) == db.head_revision()


def _node(url: str, start: Barrier, outcomes: Queue) -> None:
    """One node's ``vigie serve --migrate``, in a process of its own as on its own host."""
    engine = db.make_engine(url)
    try:
        start.wait()
        outcomes.put(db.upgrade(engine))
    except Exception as err:  # the outcome is the result: the test names every failure
        outcomes.put(f"{err.__class__.__name__}: {err}")
    finally:
        engine.dispose()


def _upgrade_together(url: str, nodes: int) -> list[str | None]:
    """``nodes`` processes upgrade ``url`` at once (a barrier releases them together)."""
    spawn = multiprocessing.get_context("spawn")
    start, outcomes = spawn.Barrier(nodes), spawn.Queue()
    processes = [spawn.Process(target=_node, args=(url, start, outcomes)) for _ in range(nodes)]
    for process in processes:
        process.start()
    try:
        return sorted((outcomes.get(timeout=120) for _ in processes), key=str)
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


@pytest.mark.postgres
def test_nodes_starting_together_migrate_one_after_the_other(postgres_url: str) -> None:
    """Three ``vigie serve --migrate`` at once on a fresh database: the advisory lock lets one
    migrate while the others wait, then find the schema at head (without it they collide)."""
    outcomes = _upgrade_together(postgres_url, nodes=3)
    assert outcomes == [db.head_revision()] * 3
    engine = db.make_engine(postgres_url)
    try:
        assert db.current_revision(engine) == db.head_revision()
        with engine.connect() as connection:  # released: nothing is left holding the lock
            held = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database"
                    " WHERE locktype = 'advisory' AND d.datname = current_database()"
                )
            ).scalar_one()
        assert held == 0
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_migration_lock_makes_a_second_node_wait(postgres_url: str) -> None:
    """While one connection holds the lock, an upgrade does not touch the database."""
    holder, node = db.make_engine(postgres_url), db.make_engine(postgres_url)
    try:
        with ThreadPoolExecutor(1) as pool:
            with db.migration_lock(holder):
                waiting = pool.submit(db.upgrade, node)
                time.sleep(1.0)
                assert not waiting.done()
                assert db.current_revision(holder) is None
            assert waiting.result(timeout=120) == db.head_revision()
    finally:
        holder.dispose()
        node.dispose()
