from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import IntegrityError

from gis_data import data_path
from vigie import db
from vigie.errors import DatabaseError
from vigie.inventory.communes import ReferentialError, load_referential, read_referential
from vigie.models import Commune, Epci

REFERENTIAL = data_path("sources", "communes-27-admin.json")


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """The schema is built by the tests here, from an empty database."""
    return empty_engine


def test_upgrade_creates_the_schema_and_downgrade_removes_it(engine) -> None:
    assert db.current_revision(engine) is None
    assert db.upgrade(engine) == db.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"communes", "epcis", "alembic_version"} <= tables
    assert db.downgrade(engine, "base") is None
    assert "communes" not in set(inspect(engine).get_table_names())


def test_require_current_schema_tells_what_to_run(engine) -> None:
    with pytest.raises(DatabaseError, match=r"run `vigie db upgrade`"):
        db.require_current_schema(engine)
    db.upgrade(engine)
    db.require_current_schema(engine)


def test_referential_loads_every_current_commune_once(engine) -> None:
    db.upgrade(engine)
    referential = read_referential(REFERENTIAL)
    factory = db.session_factory(engine)
    with db.session_scope(factory) as session:
        assert load_referential(session, referential) == (15, 585)
    with db.session_scope(factory) as session:  # loading twice updates, never duplicates
        assert load_referential(session, referential) == (15, 585)
    with db.session_scope(factory) as session:
        evreux = session.get(Commune, "27229")
        assert evreux is not None
        assert evreux.nom == "Évreux"
        assert evreux.epci is not None
        assert evreux.epci.nom == "CA Evreux Portes de Normandie"
        total = session.scalar(select(func.sum(Commune.population)))
        assert total == 602_714
        assert session.scalar(select(func.count()).select_from(Epci)) == 15


def test_foreign_keys_are_enforced(engine) -> None:
    db.upgrade(engine)
    factory = db.session_factory(engine)
    with pytest.raises(IntegrityError), db.session_scope(factory) as session:
        session.add(Commune(code="27999", nom="Nulle-part", population=1, epci_siren="999999999"))
    with db.session_scope(factory) as session:  # the failed transaction left nothing behind
        assert session.get(Commune, "27999") is None


def test_unreachable_database_is_a_clear_error() -> None:
    engine = db.make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseError, match=r"cannot read the database postgresql\+psycopg://"):
        db.current_revision(engine)


def test_password_never_appears_in_errors() -> None:
    engine = db.make_engine("postgresql+psycopg://vigie:s3cret-pw@127.0.0.1:1/none")
    with pytest.raises(DatabaseError) as info:
        db.current_revision(engine)
    assert "s3cret-pw" not in str(info.value)


def test_broken_referential_file_names_the_file(tmp_path) -> None:
    bad = tmp_path / "communes.json"
    bad.write_text('{"communes": [', encoding="utf-8")
    with pytest.raises(ReferentialError, match=r"communes\.json: not a JSON document"):
        read_referential(bad)
    bad.write_text('{"communes": [{"type": "commune-actuelle", "code": "27001"}]}')
    with pytest.raises(ReferentialError, match=r"commune #1: missing or invalid"):
        read_referential(bad)
