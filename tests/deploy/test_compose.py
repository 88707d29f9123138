"""The deployment as code (deploy/): the compose file, nginx's and Prometheus's configurations
agree with each other and with the settings, and hold no secret.

Read as YAML and text, not run: there is no docker engine in CI, and ``docker compose config``
would need the secrets' files and the network's images.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from tests.helpers.paths import REPO
from vigie.settings import Settings

DEPLOY = REPO / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
NODES = {name: spec for name, spec in SERVICES.items() if "build" in spec}
NGINX = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
PROMETHEUS: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
PORT = 8000  # the image's `vigie serve --port`


def seconds(duration: str) -> float:
    """A compose or nginx duration (``30s``, ``1m``, ``1m30s``) in seconds."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, f"not a duration: {duration!r}"
    return 60 * int(parts.group(1) or 0) + int(parts.group(2) or 0)


def address(service: str) -> str:
    return SERVICES[service]["networks"]["vigie"]["ipv4_address"]


def nginx_directive(name: str) -> list[str]:
    """The values of every ``name ...;`` directive of nginx.conf (comments dropped)."""
    text = re.sub(r"#[^\n]*", "", NGINX)
    return [value.strip() for value in re.findall(rf"(?m)^\s*{name}\s+([^;]+);", text)]


def test_at_least_three_nodes_built_from_the_repository_image() -> None:
    assert len(NODES) >= 3
    assert all(re.fullmatch(r"vigie-\d+", name) for name in NODES)
    for spec in NODES.values():
        assert (DEPLOY / spec["build"]["context"] / spec["build"]["dockerfile"]).is_file()
        assert spec["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", sorted(NODES))
def test_each_node_waits_for_the_database_and_is_health_checked(name: str) -> None:
    node = NODES[name]
    assert node["hostname"] == name  # its logs and the database say which node it is
    assert node["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert any("/healthz" in part for part in node["healthcheck"]["test"])
    url = make_url(node["environment"]["VIGIE_DATABASE_URL"])
    assert (url.drivername, url.host, url.password) == ("postgresql+psycopg", "postgres", None)
    # the proxy is believed, and only it
    assert node["environment"]["VIGIE_TRUSTED_PROXIES"] == address("nginx")
    # Docker kills after stop_grace_period: the service's own grace and its stop must fit in it
    grace = float(node["environment"]["VIGIE_SHUTDOWN_GRACE_S"])
    # + the supervisor's stop: hand-over (a lease round and a second, 6 s), checks in flight (5 s)
    assert seconds(node["stop_grace_period"]) >= grace + 6 + 5


def test_postgres_keeps_its_data_and_says_when_it_is_ready() -> None:
    postgres = SERVICES["postgres"]
    assert postgres["image"].startswith("postgres:")
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"]
    assert "pg_isready" in postgres["healthcheck"]["test"]


def test_no_secret_is_written_in_the_files() -> None:
    """Keys and passwords come from vigie.env and deploy/secrets/, which git and the image
    build both leave out."""
    for spec in SERVICES.values():
        for name, value in (spec.get("environment") or {}).items():
            secret = re.search(r"SECRET|PASSWORD|TOKEN|KEYS?$", name)
            assert not secret or str(value).startswith("/run/secrets/"), f"{name} inline"
    for path in ("compose.yaml", "nginx.conf", "prometheus.yml"):
        text = (DEPLOY / path).read_text(encoding="utf-8")
        assert not re.search(r"VIGIE_(SECRET_KEY|CREDENTIALS_KEYS)\s*[=:]", text), path
        assert not re.search(r"(?i)(password|credentials|token)[ \t]*[:=][ \t]*[^/\s]", text), path
        assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), path  # a URL with a password
    assert all(node["env_file"] == "vigie.env" for node in NODES.values())
    for secret in COMPOSE["secrets"].values():
        assert secret["file"].startswith("secrets/")
    assert {"vigie.env", "secrets/"} <= set((DEPLOY / ".gitignore").read_text().split())
    assert {"deploy/vigie.env", "deploy/secrets"} <= set(
        (REPO / ".dockerignore").read_text().split()
    )


def test_setting_names_exist() -> None:
    """A renamed setting breaks the deployment: every VIGIE_* named in deploy/ is a setting."""
    named = {
        found
        for path in sorted(DEPLOY.iterdir())
        if path.is_file()
        for found in re.findall(r"VIGIE_[A-Z0-9_]+", path.read_text(encoding="utf-8"))
    }
    assert "VIGIE_DATABASE_URL" in named
    unknown = {n for n in named if n.removeprefix("VIGIE_").lower() not in Settings.model_fields}
    assert not unknown


def test_prometheus_scrapes_every_node_with_the_monitoring_token() -> None:
    (job,) = PROMETHEUS["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    targets = {target for group in job["static_configs"] for target in group["targets"]}
    assert targets == {f"{name}:{PORT}" for name in NODES}
    credentials = job["authorization"]["credentials_file"]
    assert credentials in {f"/run/secrets/{s}" for s in SERVICES["prometheus"]["secrets"]}
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in SERVICES["prometheus"]["volumes"]


def test_nginx_balances_over_every_node() -> None:
    upstream = re.search(r"upstream vigie \{([^}]*)\}", NGINX)
    assert upstream
    servers = re.findall(r"server\s+([\d.]+:\d+)", upstream.group(1))
    assert sorted(servers) == sorted(f"{address(name)}:{PORT}" for name in NODES)
    assert nginx_directive("proxy_pass") == ["http://vigie"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in SERVICES["nginx"]["volumes"]


def test_nginx_follows_the_readme_reverse_proxy_rules() -> None:
    """README, Service and Docker, "Behind a reverse proxy"."""
    headers = nginx_directive("proxy_set_header")
    assert "X-Forwarded-For $remote_addr" in headers  # overwritten, never appended
    assert "X-Forwarded-Proto $scheme" in headers
    assert "Upgrade $http_upgrade" in headers  # the live WebSocket
    assert "Connection $connection_upgrade" in headers
    assert nginx_directive("proxy_http_version") == ["1.1"]
    assert nginx_directive("proxy_buffering") == ["off"]  # the live SSE stream
    assert nginx_directive("client_max_body_size") == ["1m"]
    assert Settings.model_fields["max_body_bytes"].default == 1024 * 1024
    for timeout in ("client_header_timeout", "client_body_timeout"):
        assert seconds(nginx_directive(timeout)[0]) <= 10
    # a live stream quiet for a heartbeat is not cut
    heartbeat = Settings.model_fields["live_heartbeat_seconds"].default
    assert seconds(nginx_directive("proxy_read_timeout")[0]) > 2 * heartbeat
    # passive failover to the next node
    (next_upstream,) = nginx_directive("proxy_next_upstream")
    assert {"error", "timeout", "http_503"} <= set(next_upstream.split())
    assert "non_idempotent" not in next_upstream
