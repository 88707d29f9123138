from __future__ import annotations

from pathlib import Path

import pytest

from vigie.errors import ConfigurationError
from vigie.settings import load_settings


def test_default_database_is_sqlite_in_the_data_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VIGIE_DATABASE_URL", raising=False)
    monkeypatch.setenv("VIGIE_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.db_url == f"sqlite:///{tmp_path / 'vigie.db'}"


def test_environment_variables_use_the_vigie_prefix(monkeypatch) -> None:
    monkeypatch.setenv("VIGIE_DATABASE_URL", "postgresql+psycopg://vigie@db/vigie")
    assert load_settings().db_url == "postgresql+psycopg://vigie@db/vigie"


def test_unsupported_database_is_refused_with_the_variable_named(monkeypatch) -> None:
    monkeypatch.setenv("VIGIE_DATABASE_URL", "mysql://root@localhost/vigie")
    with pytest.raises(ConfigurationError, match=r"VIGIE_DATABASE_URL: .*only SQLite"):
        load_settings()


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="VIGIE_DATABSE_URL"):
        load_settings(databse_url="sqlite://")
