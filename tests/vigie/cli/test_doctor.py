"""``vigie doctor`` run as an administrator would (the console script in a subprocess): the
settings as ``vigie serve`` loads them, and running services over real HTTP and HTTPS."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import run
from tests.helpers.edge_server import PORTS, start_serve
from tests.helpers.http_server import free_port
from tests.helpers.tls import self_signed
from vigie.credentials import generate_key
from vigie.settings import generate_secret_key

KEYS = {"VIGIE_SECRET_KEY": generate_secret_key(), "VIGIE_CREDENTIALS_KEYS": generate_key()}
ESCALATION = {
    "VIGIE_NOTIFY_SMTP_HOST": "smtp.departement.example",
    "VIGIE_NOTIFY_BASE_URL": "https://vigie.departement.example",
}
"""Production's e-mail relay and the address its messages link to."""


def _lines(result) -> list[str]:
    return result.stdout.splitlines()


def test_a_production_configuration_passes(database_url: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, days=365)
    env = {
        "VIGIE_DATABASE_URL": database_url,
        "VIGIE_TLS_CERT": str(cert),
        "VIGIE_TLS_KEY": str(key),
        **ESCALATION,
        **KEYS,
    }
    assert run("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    result = run("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result)
    assert "✓ mode : production" in lines
    assert "✓ clés : VIGIE_SECRET_KEY défini (signe les jetons d'accès)" in lines
    assert any(
        line.startswith("✓ TLS : certificat ") and "valable jusqu'au" in line for line in lines
    )
    assert f"✓ TLS : la clé privée TLS ({key}) n'est lisible que par son propriétaire" in lines
    assert "✓ corps de requête : 1 Mio au plus, reçus en 10 s" in lines
    assert any(line.startswith("? sauvegardes : ") for line in lines)
    assert "✓ notifications : e-mails par smtp.departement.example:587 (starttls)" in lines
    assert "✓ images : instantanés décodés en une passe (libturbojpeg)" in lines
    assert lines[-1].startswith("Bilan : 0 problème, 2 points à vérifier à la main, ")


def test_a_machine_without_libturbojpeg_is_told_what_to_install(monkeypatch) -> None:
    from supervision import jpeg
    from vigie.cli import doctor

    jpeg._turbojpeg.cache_clear()
    monkeypatch.setattr(jpeg.ctypes.util, "find_library", lambda name: f"lib{name}-absent.so")
    try:
        finding = doctor._pictures()
    finally:
        jpeg._turbojpeg.cache_clear()
    assert finding.level is doctor.Level.WRONG
    assert finding.line().startswith("✗ images : libturbojpeg absente : chaque instantané")
    assert "libturbojpeg0" in finding.text


def test_what_is_wrong_is_said_in_french_and_fails(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("VIGIE_DATABASE_ECHO=true\n", encoding="utf-8")
    env_file.chmod(0o644)
    env = {
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'vigie.db'}",  # no database yet
        "VIGIE_ENVIRONMENT": "development",
        "VIGIE_CORS_ORIGINS": '["*"]',
        "VIGIE_MAX_BODY_BYTES": str(8 * 1024 * 1024),
        "VIGIE_TRUSTED_PROXIES": "10.0.0.0/8",
    }
    result = run("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    text = result.stdout
    assert "✗ mode : VIGIE_ENVIRONMENT=development" in text
    assert "✗ clés : VIGIE_SECRET_KEY n'est pas défini" in text
    assert "✗ clés : VIGIE_CREDENTIALS_KEYS n'est pas défini" in text
    assert "✗ clés : le fichier .env (.env) est lisible par d'autres comptes (644)" in text
    assert "✗ proxys de confiance : 10.0.0.0/8 est un réseau trop large" in text
    assert "✗ corps de requête : 8 Mio au plus" in text
    assert "✗ navigateurs : VIGIE_CORS_ORIGINS ouvre l'API à toute origine (*)" in text
    assert "✗ base de données : VIGIE_DATABASE_ECHO écrit chaque requête SQL" in text
    assert "n'existe pas : `vigie db upgrade` la crée" in text
    assert not (tmp_path / "vigie.db").exists()  # the doctor created nothing
    assert "? notifications : ni e-mail ni SMS configurés" in text
    assert _lines(result)[-1].startswith("Bilan : 9 problèmes, 3 points à vérifier")
    assert "Traceback" not in result.stderr


def test_without_tls_or_a_trusted_proxy_passwords_would_travel_in_clear(
    sqlite_url: str, tmp_path: Path
) -> None:
    result = run("doctor", env={"VIGIE_DATABASE_URL": sqlite_url, **KEYS}, cwd=tmp_path)
    assert result.returncode == 1
    assert "✗ TLS : ni certificat (VIGIE_TLS_CERT, VIGIE_TLS_KEY) ni proxy inverse" in result.stdout
    behind = run(
        "doctor",
        env={"VIGIE_DATABASE_URL": sqlite_url, "VIGIE_TRUSTED_PROXIES": "10.0.0.5", **KEYS},
        cwd=tmp_path,
    )
    assert "✓ TLS : assuré par le proxy inverse (VIGIE_TRUSTED_PROXIES)" in behind.stdout
    assert "✓ proxys de confiance : X-Forwarded-For cru de 10.0.0.5/32 seulement" in behind.stdout


def test_escalation_that_would_leak_or_wait_forever_is_said(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = {
        "VIGIE_DATABASE_URL": sqlite_url,
        "VIGIE_TRUSTED_PROXIES": "10.0.0.5",
        "VIGIE_NOTIFY_SMTP_HOST": "relais.departement.example",
        "VIGIE_NOTIFY_SMTP_SECURITY": "none",
        "VIGIE_NOTIFY_SMS_URL": "http://sms.example/api/send",
        **KEYS,
    }
    assert run("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    script = (
        "from datetime import datetime, UTC; from vigie import db; "
        "from vigie.settings import load_settings; "
        "from vigie.notify.rules import RuleSpec, create_rule; "
        "e = db.make_engine(load_settings().db_url); "
        "spec = RuleSpec(name='nuit', levels=[{'after_minutes': 0, "
        "'recipients': [{'phone': '+33600000001'}]}]); "
        "s = db.session_factory(e)(); "
        "create_rule(s, spec, actor='a', role='admin', ip='', now=datetime.now(UTC)); s.commit()"
    )
    subprocess.run([sys.executable, "-c", script], env={**os.environ, **env}, check=True)
    text = run("doctor", env=env, cwd=tmp_path).stdout
    assert "✗ notifications : e-mails envoyés en clair à relais.departement.example:587" in text
    assert "✗ notifications : passerelle SMS en clair (http://sms.example)" in text
    assert "✗ notifications : les liens des messages mènent à http://127.0.0.1:8000" in text
    without_sms = {k: v for k, v in env.items() if k != "VIGIE_NOTIFY_SMS_URL"}
    text = run("doctor", env=without_sms, cwd=tmp_path).stdout
    assert "✗ notifications : 1 règle(s) demandent des SMS (nuit) mais VIGIE_NOTIFY_SMS_URL" in text
    # A login over plain SMTP to another machine: refused as the service would refuse it.
    leaking = {**env, "VIGIE_NOTIFY_SMTP_USER": "vigie"}
    result = run("doctor", env=leaking, cwd=tmp_path)
    assert "✗ réglages : illisibles" in result.stdout
    assert "password in clear to relais.departement.example" in result.stdout


def test_settings_the_service_would_refuse_are_a_problem_not_a_traceback(tmp_path: Path) -> None:
    result = run("doctor", env={"VIGIE_TRUSTED_PROXIES": "0.0.0.0/0"}, cwd=tmp_path)
    assert result.returncode == 1
    assert "✗ réglages : illisibles, le service refuserait de démarrer" in result.stdout
    assert "VIGIE_TRUSTED_PROXIES" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_running_service_over_https_passes(sqlite_url: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, days=365)
    server = start_serve(sqlite_url, tmp_path, tls=(cert, key))
    try:
        result = run(
            "doctor",
            "--url",
            server.url,
            "--cafile",
            str(cert),
            env={**server.env, **ESCALATION},
            cwd=tmp_path,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result)
    assert f"✓ service : {server.url}/healthz répond ok" in lines
    assert any(line.startswith("✓ TLS : certificat de 127.0.0.1 valable") for line in lines)
    assert any(line.startswith("✓ en-têtes : de sécurité présents (") for line in lines)
    assert "strict-transport-security" in result.stdout
    assert "✓ corps de requête : un corps annoncé de 1 Gio est refusé d'emblée (413)" in lines


def test_a_certificate_the_client_cannot_verify_is_said(sqlite_url: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, days=365)
    server = start_serve(sqlite_url, tmp_path, tls=(cert, key))
    try:
        result = run("doctor", "--url", server.url, env=server.env, cwd=tmp_path)
    finally:
        server.stop()
    assert result.returncode == 1
    assert f"✗ service : {server.url} ne répond pas (certificat refusé" in result.stdout


class _Careless(http.server.BaseHTTPRequestHandler):
    """A service without Vigie's guards: no security header, a Server header, docs served,
    every body awaited."""

    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def careless_url() -> Iterator[str]:
    port = free_port(PORTS)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Careless)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_a_service_without_the_guards_is_reported(careless_url: str, tmp_path: Path) -> None:
    result = run("doctor", "--url", careless_url, env=KEYS, cwd=tmp_path)
    assert result.returncode == 1
    text = result.stdout
    assert f"✓ service : {careless_url}/healthz répond ok" in text
    assert "? TLS : 127.0.0.1:" in text and "en clair, sur la machine même" in text
    assert "✗ en-têtes : absents ou différents : x-content-type-options, x-frame-options" in text
    assert "✗ en-têtes : Server annonce le logiciel : BaseHTTP" in text
    assert "✗ mode : la documentation interactive est servie" in text
    assert "✗ corps de requête : un corps annoncé de 1 Gio n'est pas refusé (501)" in text


def test_a_service_that_does_not_answer_is_a_problem(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port(PORTS)}"
    result = run("doctor", "--url", url, env=KEYS, cwd=tmp_path)
    assert result.returncode == 1
    assert f"✗ service : {url} ne répond pas (" in result.stdout
