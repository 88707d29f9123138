"""Configuration: one pydantic-settings tree, built by the CLI or the app factory and passed down.

Nothing here runs at import time; call :func:`load_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigie.errors import ConfigurationError


def _default_data_dir() -> Path:
    """XDG data home, so a service and a developer's shell find the same database."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vigie"


class Settings(BaseSettings):
    """Vigie's settings, read from ``VIGIE_*`` environment variables (or a ``.env`` file)."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIE_", env_file=".env", extra="forbid", frozen=True
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the SQLite database and generated files.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL, e.g. postgresql+psycopg://vigie@db/vigie. "
            "Default: a SQLite file vigie.db in data_dir."
        ),
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement (debugging).")

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "only SQLite (sqlite:///PATH) and PostgreSQL (postgresql+psycopg://...) "
                "are supported"
            )
        return value

    @property
    def db_url(self) -> str:
        """The effective database URL."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'vigie.db'}"


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning validation errors into one actionable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        lines = []
        for problem in err.errors():
            name = "VIGIE_" + "_".join(str(p) for p in problem["loc"]).upper()
            lines.append(f"{name}: {problem['msg']}")
        raise ConfigurationError("invalid settings: " + "; ".join(lines)) from err
