from __future__ import annotations

from pathlib import Path

import pytest

from vigie import settings as settings_module
from vigie.errors import ConfigurationError
from vigie.settings import generate_secret_key, load_settings


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


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("short", "at least 32 characters"),
        ("changeme-changeme-changeme-changeme-1234", "placeholder"),
        ("a" * 40, "not random enough"),
    ],
)
def test_weak_or_placeholder_secret_keys_are_refused(secret: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=f"VIGIE_SECRET_KEY: .*{why}"):
        load_settings(secret_key=secret)


def test_a_generated_secret_key_that_spells_a_placeholder_is_drawn_again(monkeypatch) -> None:
    # Random keys spell "todo" or "xxxx" about once in 6,000 draws; the validator refuses them,
    # which made `vigie keys generate --secret` (and the tests' settings) fail now and then.
    unlucky = "Gq3TodO" + "k7Fq2x9ZLpR4vB8nW1mC5hJ0sD6aE3yU" * 2
    lucky = "Q8v-3kzP_fW1mX7rT0yB5nJ2cL9hD4sG6aE" * 2
    draws = iter([unlucky, lucky])
    monkeypatch.setattr(settings_module.secrets, "token_urlsafe", lambda _n: next(draws))
    assert settings_module.weak_secret(unlucky) == "looks like a placeholder"
    assert generate_secret_key() == lucky
    assert load_settings(secret_key=lucky).secret_key is not None


def test_secrets_do_not_show_in_the_settings_repr() -> None:
    secret = "Q8v-3kzP_fW1mX7rT0yB5nJ2cL9hD4sG6aE"
    settings = load_settings(secret_key=secret)
    assert secret not in repr(settings)
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == secret


def test_credentials_keys_must_be_32_bytes_with_distinct_ids() -> None:
    with pytest.raises(ConfigurationError, match="must be 32 bytes"):
        load_settings(credentials_keys="k1:c2hvcnQ")
    key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    with pytest.raises(ConfigurationError, match="ID used twice"):
        load_settings(credentials_keys=f"k1:{key},k1:{key}")
    assert load_settings(credentials_keys=f"k2:{key}, k1:{key}").credentials_keys is not None


def test_the_default_environment_is_production(monkeypatch) -> None:
    monkeypatch.delenv("VIGIE_ENVIRONMENT", raising=False)
    settings = load_settings()
    assert settings.environment == "production"
    with pytest.raises(ConfigurationError, match="VIGIE_SECRET_KEY is not set"):
        settings.require_service_secrets()


def test_production_also_needs_the_credentials_keys() -> None:
    settings = load_settings(secret_key="Q8v-3kzP_fW1mX7rT0yB5nJ2cL9hD4sG6aE")
    with pytest.raises(ConfigurationError, match="VIGIE_CREDENTIALS_KEYS is not set"):
        settings.require_service_secrets()
    load_settings(environment="development").require_service_secrets()  # no keys needed


def test_trusted_proxies_are_none_by_default_and_read_as_networks(monkeypatch) -> None:
    assert load_settings().trusted_proxies == []
    monkeypatch.setenv("VIGIE_TRUSTED_PROXIES", "10.0.0.5, 192.168.10.0/24")
    assert load_settings().trusted_proxies == ["10.0.0.5/32", "192.168.10.0/24"]
    monkeypatch.setenv("VIGIE_TRUSTED_PROXIES", '["::1"]')
    assert load_settings().trusted_proxies == ["::1/128"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("*", "not an IP address or a CIDR network"),
        ("proxy.example", "not an IP address or a CIDR network"),
        ("0.0.0.0/0", "would trust every client"),
        ("::/0", "would trust every client"),
    ],
)
def test_trusting_every_address_or_a_name_is_refused(monkeypatch, value: str, why: str) -> None:
    monkeypatch.setenv("VIGIE_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigurationError, match=f"VIGIE_TRUSTED_PROXIES: .*{why}"):
        load_settings()


def test_request_bodies_are_bounded_by_default() -> None:
    settings = load_settings()
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.body_timeout_seconds == 10
