"""Configuration: one pydantic-settings tree, built by the CLI or the app factory and passed down.

Nothing here runs at import time; call :func:`load_settings`.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from vigie.errors import ConfigurationError


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


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

    # --- security (README: Security) ---
    environment: Literal["development", "production"] = Field(
        default="production",
        description=(
            "production refuses to start without a proper secret key; development runs with a "
            "random per-process key (tokens die with the process)."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs access tokens: at least 32 random characters (`vigie keys generate`).",
    )
    credentials_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Keys encrypting camera credentials, comma-separated ID:BASE64 (32 bytes each); "
            "the first encrypts, all decrypt (`vigie keys generate`, `vigie keys rotate`)."
        ),
    )
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_hours: int = Field(default=12, ge=1, le=24 * 30)
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins in a row from one address that lock it out of an account.",
    )
    lockout_minutes: int = Field(
        default=15, ge=1, description="How long a locked address waits for that account."
    )
    login_rate_per_minute: int = Field(
        default=20, ge=1, description="Login attempts per minute and client address."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (JSON list); none by default.",
    )
    audit_retention_days: int = Field(
        default=3 * 365, ge=30, description="Audit rows older than this are purged."
    )
    observation_retention_days: int = Field(
        default=30,
        ge=1,
        description="Check results older than this are purged (states and incidents are kept).",
    )
    register_alert_months: int = Field(
        default=4,
        ge=1,
        le=24,
        description="Months before a prefectoral authorisation ends that the register alerts.",
    )
    # --- supervision by `vigie serve` (README: How vigie serve supervises) ---
    supervise: bool = Field(
        default=True, description="`vigie serve` polls the cameras of the inventory."
    )
    supervise_liveness_interval_s: float = Field(default=30.0, gt=0)
    supervise_full_interval_s: float = Field(default=300.0, gt=0)
    supervise_stream_interval_s: float = Field(
        default=300.0, ge=0, description="RTSP stream check interval; 0 turns it off."
    )
    supervise_events_interval_s: float = Field(
        default=15.0,
        ge=0,
        description="How often the ONVIF events of the cameras that offer them are pulled; 0"
        " turns the events check off.",
    )
    supervise_camera_timeout_s: float = Field(
        default=5.0, gt=0, description="Bound of each ONVIF call to a camera."
    )
    supervise_concurrency: int = Field(default=64, ge=1, description="Checks running at once.")
    supervise_freeze_heap: bool = Field(
        default=True,
        description="Leave the service's long-lived objects out of the garbage collector's full "
        "passes (their pauses delayed checks at thousands of cameras).",
    )
    supervise_inventory_reload_s: float = Field(
        default=60.0, gt=0, description="How often the inventory is re-read for changes."
    )
    supervise_down_after: int = Field(default=3, ge=1, description="K: failures before DOWN.")
    supervise_up_after: int = Field(default=2, ge=1, description="J: successes before back.")
    supervise_degrade_after: int = Field(default=2, ge=1)
    supervise_restore_after: int = Field(default=2, ge=1)
    supervise_max_clock_offset_s: float = Field(default=5.0, ge=0)
    supervise_min_frame_rate: float = Field(default=10.0, ge=0)
    supervise_max_recording_lag_s: float = Field(
        default=600.0,
        ge=0,
        description="How far behind its own clock a camera recording at the edge (ONVIF "
        "Profile G) may have its latest recorded data before recording_stopped.",
    )
    supervise_silent_after: int = Field(default=5, ge=1)
    supervise_retry_s: float = Field(
        default=10.0,
        ge=0,
        description="Re-check an unreachable camera after this long, until it answers "
        "(confirms DOWN within one interval; 0 turns it off).",
    )
    supervise_batch_size: int = Field(default=200, ge=1, description="Results per transaction.")
    supervise_flush_s: float = Field(default=0.25, gt=0, description="Longest wait to write.")
    supervise_correlation_window_s: float = Field(
        default=30.0,
        ge=0,
        description="Cameras DOWN within this long of each other share a mast or branch "
        "incident (README: Correlation; 0 turns correlation off).",
    )
    supervise_lease_ttl_s: float = Field(
        default=30.0,
        ge=1.0,
        description="Several nodes on PostgreSQL: life of a camera's lease without renewal; a "
        "dead node's cameras are taken over within it and one lease round (README: Several "
        "nodes).",
    )
    # --- webhooks (README: Webhooks) ---
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Per-request timeout of a webhook delivery."
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often new events are copied to the outbox."
    )
    webhook_backoff_base_seconds: float = Field(
        default=1.0, gt=0, description="First retry delay; doubles at each failure (jittered)."
    )
    webhook_backoff_cap_seconds: float = Field(
        default=600.0, gt=0, description="Longest delay between two attempts (never gives up)."
    )
    webhook_unhealthy_after: int = Field(
        default=5, ge=1, description="Failures in a row after which a subscription is unhealthy."
    )
    webhook_retention_days: int = Field(
        default=7, ge=1, description="Delivered outbox rows older than this are purged."
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, le=256, description="Subscriptions delivered to at the same time."
    )
    webhook_allowed_networks: str = Field(
        default="",
        description=(
            "Comma-separated networks (e.g. 10.20.0.0/16) where webhooks may go besides public "
            "addresses: loopback, link-local and private addresses are refused otherwise."
        ),
    )
    # --- escalation: e-mail and SMS until someone acts (README: Escalation) ---
    notify_poll_seconds: float = Field(
        default=5.0, gt=0, le=300, description="How often incidents are checked for notifications."
    )
    notify_backoff_base_seconds: float = Field(
        default=5.0, gt=0, description="First retry delay of a failed notification (doubles)."
    )
    notify_backoff_cap_seconds: float = Field(
        default=300.0, gt=0, description="Longest delay between two attempts (never gives up)."
    )
    notify_timeout_seconds: float = Field(
        default=15.0, gt=0, le=120, description="Per-message timeout (SMTP or SMS gateway)."
    )
    notify_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The service's address as recipients reach it: the link in messages.",
    )
    notify_smtp_host: str | None = Field(
        default=None, description="SMTP server for e-mail notifications; unset: no e-mail."
    )
    notify_smtp_port: int = Field(default=587, ge=1, le=65535)
    notify_smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (port 587), tls (implicit TLS, port 465) or none (local relay).",
    )
    notify_smtp_cafile: Path | None = Field(
        default=None,
        description="CA certificates (PEM) the SMTP server's certificate is checked against "
        "instead of the system's (a private CA).",
    )
    notify_smtp_user: str = Field(default="", description="SMTP login; empty: none.")
    notify_smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password (environment only, never stored, never logged)."
    )
    notify_smtp_from: str = Field(
        default="vigie@localhost", description="The From address of notification e-mails."
    )
    notify_sms_url: str | None = Field(
        default=None,
        description="SMS gateway URL receiving POST JSON {to, text}; unset: no SMS.",
    )
    notify_sms_auth: Literal["bearer", "basic"] = Field(
        default="bearer", description="How the gateway is authenticated."
    )
    notify_sms_user: str = Field(default="", description="The gateway's user for basic auth.")
    notify_sms_token: SecretStr | None = Field(
        default=None,
        description="The gateway's bearer token or basic password (environment only).",
    )
    # --- dashboard and plans (README: Dashboard) ---
    plans_dir: Path | None = Field(
        default=None,
        description="Folder of plan folders written by `vigie plan`. Default: data_dir/plans.",
    )
    communes_geometry: Path | None = Field(
        default=None,
        description=(
            "GeoPackage whose `communes` layer (code, nom, epci) draws the map's boundaries. "
            "Default: the Eure sample shipped with Vigie."
        ),
    )
    map_tile_url: str = Field(
        default="",
        description=(
            "Background tiles for the dashboard map, e.g. https://tiles.example/{z}/{x}/{y}.png; "
            "empty (default): no background, the map works on a closed network."
        ),
    )
    tls_cert: Path | None = Field(default=None, description="TLS certificate (PEM) for serve.")
    tls_key: Path | None = Field(default=None, description="TLS private key (PEM) for serve.")

    # --- live status stream (README: Live status) ---
    live_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, description="Seconds between heartbeats on a quiet stream."
    )
    live_queue_size: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Messages a live client may fall behind before it is dropped (code 4008).",
    )
    max_concurrent_requests: int = Field(
        default=30,
        ge=1,
        le=40,
        description="HTTP requests processed at once (the others wait): under the 40 worker "
        "threads and the 40 database connections, so that they can never starve each other.",
    )
    # --- the HTTP edge (README: Security, production checklist) ---
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body accepted (413 beyond, before it is read); every body "
        "of the API is small JSON or a login form.",
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Time a request body has to arrive whole (408 after): a client trickling "
        "its body must not hold the service.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: "
        "IP addresses or CIDR networks, comma-separated or a JSON list; none by default (the "
        "client is the TCP peer).",
    )
    live_poll_ms: int = Field(
        default=100,
        ge=10,
        le=5000,
        description="How often the live feed reads new events from the database (on PostgreSQL "
        "only while it cannot LISTEN: NOTIFY wakes it otherwise).",
    )
    shutdown_grace_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds `vigie serve` waits for connections to finish when told to stop "
        "(live streams are closed at once), before it closes them and stops the supervisor.",
    )

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            problem = weak_secret(value.get_secret_value())
            if problem:
                raise ValueError(f"{problem}; generate one with `vigie keys generate`")
        return value

    @field_validator("credentials_keys")
    @classmethod
    def _valid_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_key_ring(value.get_secret_value())
        return value

    def require_service_secrets(self) -> None:
        """Refuse to serve outside development without its keys: say what to set."""
        if self.environment == "development":
            return
        if self.secret_key is None:
            raise ConfigurationError(
                "VIGIE_SECRET_KEY is not set: the service refuses to start in production without "
                "it; set it to the output of `vigie keys generate --secret` "
                "(or VIGIE_ENVIRONMENT=development on a developer's machine)"
            )
        if self.credentials_keys is None:
            raise ConfigurationError(
                "VIGIE_CREDENTIALS_KEYS is not set: the service refuses to start in production "
                "without it (camera passwords could be neither stored nor read); set it to the "
                "output of `vigie keys generate`"
            )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        from vigie.webhooks.targets import parse_networks  # noqa: PLC0415 -- no cycle at import

        parse_networks(value)  # a bad entry is a configuration error at start, not at send
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        return [str(trusted_network(item)) for item in value]

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        if value and (
            not value.startswith(("https://", "http://"))
            or not all(part in value for part in ("{z}", "{x}", "{y}"))
        ):
            raise ValueError("expected an http(s) URL with {z}, {x} and {y}, or nothing")
        return value

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

    @model_validator(mode="after")
    def _smtp_login_protected(self) -> Settings:
        """A login over plain SMTP sends the password in clear: only to a relay on this machine."""
        if (
            self.notify_smtp_host
            and self.notify_smtp_security == "none"
            and (self.notify_smtp_user or self.notify_smtp_password is not None)
            and not is_loopback(self.notify_smtp_host)
        ):
            raise ValueError(
                "VIGIE_NOTIFY_SMTP_SECURITY=none with a login would send the SMTP password in "
                f"clear to {self.notify_smtp_host}: use starttls or tls, or a relay on this "
                "machine (127.0.0.1) without a login"
            )
        return self

    @property
    def plans_path(self) -> Path:
        """The effective plans folder."""
        return self.plans_dir if self.plans_dir is not None else self.data_dir / "plans"

    @property
    def db_url(self) -> str:
        """The effective database URL."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'vigie.db'}"


PLACEHOLDERS = ("change", "secret", "password", "example", "default", "xxxx", "todo", "dummy")


def generate_secret_key() -> str:
    """A random key that :func:`weak_secret` accepts: one draw in about 6,000 spells a
    placeholder word ("todo", "xxxx"...) by chance and would be refused, so it is drawn again."""
    while True:
        key = secrets.token_urlsafe(48)
        if weak_secret(key) is None:
            return key


def weak_secret(value: str) -> str | None:
    """Why ``value`` is not a usable secret key, or None when it is."""
    if len(value) < 32:
        return "must be at least 32 characters"
    lowered = value.lower()
    if any(word in lowered for word in PLACEHOLDERS):
        return "looks like a placeholder"
    if len(set(value)) < 10:
        return "is not random enough"
    return None


def trusted_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """One entry of ``trusted_proxies``: an address or a network, never every address."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as err:
        raise ValueError(f"{text!r} is not an IP address or a CIDR network") from err
    if network.prefixlen == 0:
        raise ValueError(f"{text!r} would trust every client to name its own address")
    return network


def parse_key_ring(text: str) -> list[tuple[str, bytes]]:
    """``ID:BASE64,ID:BASE64`` -> [(id, 32-byte key)], first one current; ValueError otherwise."""
    ring: list[tuple[str, bytes]] = []
    for index, item in enumerate(filter(None, (p.strip() for p in text.split(","))), start=1):
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.isalnum() or len(key_id) > 16:
            raise ValueError(f"key #{index}: expected ID:BASE64 with an alphanumeric ID")
        try:
            key = base64.urlsafe_b64decode(encoded.encode("ascii") + b"==")
        except (binascii.Error, ValueError) as err:
            raise ValueError(f"key {key_id}: not base64") from err
        if len(key) != 32:
            raise ValueError(f"key {key_id}: must be 32 bytes, got {len(key)}")
        if any(key_id == known for known, _ in ring):
            raise ValueError(f"key {key_id}: ID used twice")
        ring.append((key_id, key))
    if not ring:
        raise ValueError("no key given")
    return ring


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
