"""The real console script, run as a user would (subprocess), on real files and databases."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import VIGIE, run, sample_folder
from tests.helpers.paths import SAMPLE
from vigie import db

SERVICE_KEYS = {  # what `vigie serve` needs in production (made by `vigie keys generate`)
    "VIGIE_SECRET_KEY": "k7Fq2-" + "x9Z" * 10 + "Lp",
    "VIGIE_CREDENTIALS_KEYS": "k1:" + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
}

COMMANDS = [
    [],
    ["validate"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["db", "load-communes"],
    ["sample"],
    ["sample", "eure"],
    ["serve"],
    ["plan"],
    ["estimate"],
    ["simulate"],
    *[["users", c] for c in ("create", "list", "disable", "enable", "set-role", "set-password")],
    *[["tokens", c] for c in ("create", "list", "revoke")],
    *[["audit", c] for c in ("verify", "export", "purge")],
    *[["keys", c] for c in ("generate", "rotate")],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "vigie")
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: vigie" in result.stdout


def test_usage_errors_exit_2() -> None:
    result = run("validate")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = run("db", "current", env={"VIGIE_DATABASE_URL": "mysql://root@localhost/x"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid settings: VIGIE_DATABASE_URL")
    assert result.stderr.count("\n") == 1


def test_db_upgrade_then_load_communes(database_url: str, tmp_path: Path) -> None:
    env = {"VIGIE_DATABASE_URL": database_url}
    before = run("db", "load-communes", env=env)
    assert before.returncode == 1
    assert "run `vigie db upgrade`" in before.stderr
    assert "Traceback" not in before.stderr
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"empty -> {db.head_revision()}" in upgraded.stderr
    loaded = run("db", "load-communes", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "585 communes and 15 intercommunalities" in loaded.stderr
    current = run("db", "current", env=env)
    head = db.head_revision()
    assert current.stdout.strip() == f"{head} (code: {head})"


def test_default_database_lands_in_the_data_dir(tmp_path: Path) -> None:
    env = {"VIGIE_DATA_DIR": str(tmp_path / "data")}
    env_no_url = {k: v for k, v in os.environ.items() if k != "VIGIE_DATABASE_URL"}
    result = subprocess.run(
        [VIGIE, "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**env_no_url, **env},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "vigie.db").is_file()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_migrates_and_answers_healthz_over_http(sqlite_url: str) -> None:
    import time
    import urllib.request

    secret = {"VIGIE_DATABASE_URL": sqlite_url, **SERVICE_KEYS}
    env = {**os.environ, **secret}
    refused = run("serve", env=secret)
    assert refused.returncode == 1
    assert "run `vigie db upgrade`" in refused.stderr
    port = _free_port()
    server = subprocess.Popen(
        [VIGIE, "serve", "--port", str(port), "--migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    assert r.read() == b'{"status":"ok"}'
                    assert "server" not in {k.lower() for k in r.headers}
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "vigie serve did not answer within 30 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- planning commands, on the real Eure sample ---------------------------------------------------


def test_validate_the_sample_exits_0_and_prints_no_problem() -> None:
    result = run("validate", str(SAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "usable — 0 error(s), 0 warning(s)" in result.stderr


def test_validate_a_broken_copy_prints_one_line_per_problem(tmp_path: Path) -> None:
    def edit(name, frame):
        if name == "masts":
            frame.loc[1, "id"] = frame.loc[0, "id"]
        if name == "ftth_routes":
            frame = frame.drop(columns=["spare"])
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    result = run("validate", str(folder))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ftth_routes:-: missing required field 'spare'")
    mast = lines[1].split(":")[1]
    assert lines[1].startswith(f"masts:{mast}: duplicate id")
    assert len(lines) == 2, lines
    assert "not usable — 2 error(s), 0 warning(s)" in result.stderr

    report = json.loads(run("validate", str(folder), "--json").stdout)
    assert report["valid"] is False
    assert [(p["layer"], p["code"]) for p in report["problems"]] == [
        ("ftth_routes", "missing-field"),
        ("masts", "duplicate-id"),
    ]


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    def edit(name, frame):
        if name == "masts":  # a mast declared in the wrong (but existing) commune
            other = sorted(set(frame["commune"]) - {frame.loc[0, "commune"]})[0]
            frame.loc[0, "commune"] = other
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    lenient = run("validate", str(folder))
    assert lenient.returncode == 0
    assert "outside its commune" in lenient.stdout
    assert ": warning: " in lenient.stdout
    assert run("validate", str(folder), "--strict").returncode == 1


def test_validate_unusable_arguments_are_clear_errors(tmp_path: Path) -> None:
    missing = run("validate", str(tmp_path / "nowhere.gpkg"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ")
    assert "nowhere.gpkg" in missing.stderr
    assert "Traceback" not in missing.stderr

    corrupt = tmp_path / "corrupt.gpkg"
    corrupt.write_bytes(SAMPLE.read_bytes()[:50_000])
    result = run("validate", str(corrupt))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout.startswith("corrupt.gpkg:-: ")


def test_sample_eure_writes_a_valid_geopackage(tmp_path: Path) -> None:
    out_file = tmp_path / "sample.gpkg"
    result = run("sample", "eure", "--out", str(out_file), "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out_file}" in result.stderr
    assert "note: 2018 commune" in result.stderr
    assert run("validate", str(out_file)).returncode == 0


def test_sample_eure_unknown_epci_is_a_clear_error(tmp_path: Path) -> None:
    result = run("sample", "eure", "--out", str(tmp_path / "x.gpkg"), "--epci", "123456789")
    assert result.returncode == 1
    assert "no EPCI with SIREN '123456789'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.gpkg").exists()


def test_demo_validates_summarises_and_plans_the_sample(tmp_path: Path) -> None:
    result = run("demo", "--plan-only", "--out", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "eure.gpkg: usable — 0 error(s), 0 warning(s)." in result.stdout
    assert "74 (113,337 inhabitants)" in result.stdout
    assert "110 (" in result.stdout  # masts
    assert "110 / 110" in result.stdout  # masts connected by the plan
    assert (tmp_path / "demo" / "plans" / "eure-echantillon" / "map.html").is_file()
    assert "Estimate of" in result.stdout and "FIPD subsidy" in result.stdout
    assert (tmp_path / "demo" / "plans" / "eure-echantillon" / "dqe.xlsx").is_file()


def test_plan_the_sample_exits_0_and_writes_the_three_outputs(tmp_path: Path) -> None:
    result = run("plan", str(SAMPLE), "--out", str(tmp_path / "plan"))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("plan.gpkg", "summary.json", "map.html"):
        assert (tmp_path / "plan" / name).is_file(), name
    assert "110 / 110" in result.stdout  # masts connected
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"]["connected"] == 110


def test_plan_exits_3_and_lists_the_masts_it_cannot_connect(tmp_path: Path) -> None:
    def edit(name, frame):
        if name == "masts":  # 60 km north, beyond the sample's last road
            point = frame.loc[0, "geometry"]
            frame.loc[0, "geometry"] = type(point)(point.x, point.y + 60_000)
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    result = run("plan", str(folder), "--out", str(tmp_path / "plan"))
    assert result.returncode == 3, result.stdout + result.stderr
    lost = [line for line in result.stdout.splitlines() if ": unreachable: " in line]
    assert len(lost) == 1, result.stdout
    assert "snapping limit" in lost[0]
    assert (tmp_path / "plan" / "plan.gpkg").is_file()


def test_plan_refuses_invalid_layers_with_the_validator_lines(tmp_path: Path) -> None:
    def edit(name, frame):
        return frame.drop(columns=["free_fibres"]) if name == "ftth_nodes" else frame

    folder = sample_folder(tmp_path / "layers", edit)
    result = run("plan", str(folder), "--out", str(tmp_path / "plan"))
    assert result.returncode == 1
    assert result.stdout.startswith("ftth_nodes:-: missing required field 'free_fibres'")
    assert not (tmp_path / "plan").exists()


def test_plan_parameters_file_is_applied_and_checked(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text('{"cost": {"trench": {"lokal": 10}}}', encoding="utf-8")
    result = run("plan", str(SAMPLE), "--out", str(tmp_path / "plan"), "--params", str(params))
    assert result.returncode == 1
    assert "cost.trench.lokal" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_stdout_holds_only_results_even_when_the_lp_bound_runs(tmp_path: Path) -> None:
    """A small plan computes the HiGHS bound; HiGHS's banner must not reach stdout."""
    import geopandas as gpd
    import pyogrio

    keep = None

    def edit(name, frame):
        nonlocal keep
        if name == "masts":  # two masts only, and only the roads around them
            frame = frame.iloc[:2]
            keep = frame.geometry.buffer(400).union_all()
        return frame

    folder = sample_folder(tmp_path / "layers", edit)
    for name in ("roads", "ftth_routes", "ftth_nodes", "power_points"):
        path = folder / f"{name}.geojson"
        frame = gpd.read_file(path, engine="pyogrio")
        frame[frame.intersects(keep)].to_file(path, engine="pyogrio")
    assert [n for n, _ in pyogrio.list_layers(folder / "masts.geojson")] == ["masts"]
    result = run("plan", str(folder), "--out", str(tmp_path / "plan"))
    assert result.returncode in (0, 3), result.stderr
    assert "HiGHS" not in result.stdout
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert summary["bound"]["computed"] is True, summary["bound"]
    assert "gap to the lower bound" in result.stdout


def test_serve_refuses_to_start_in_production_without_a_secret_key(sqlite_url: str) -> None:
    env = {**os.environ, "VIGIE_DATABASE_URL": sqlite_url}
    env.pop("VIGIE_SECRET_KEY", None)
    env.pop("VIGIE_ENVIRONMENT", None)
    refused = subprocess.run([VIGIE, "serve"], env=env, capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: VIGIE_SECRET_KEY is not set")
    placeholder = run(
        "serve",
        env={
            "VIGIE_DATABASE_URL": sqlite_url,
            "VIGIE_SECRET_KEY": "change-me-change-me-change-me-change-me",
        },
    )
    assert placeholder.returncode == 1
    assert "VIGIE_SECRET_KEY: Value error, looks like a placeholder" in placeholder.stderr


def _self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_over_tls_and_log_in(sqlite_url: str, tmp_path: Path) -> None:
    """The first admin, created by the CLI, logs in over real HTTPS; its password is in no log."""
    import ssl
    import time
    import urllib.parse
    import urllib.request

    cert, key = _self_signed(tmp_path)
    env = {
        **os.environ,
        "VIGIE_DATABASE_URL": sqlite_url,
        **SERVICE_KEYS,
    }
    password = "first admin pass phrase"
    assert run("db", "upgrade", env=env).returncode == 0
    created = run(
        "users",
        "create",
        "root",
        "--role",
        "admin",
        "--password-stdin",
        env=env,
        input=password + "\n",
    )
    assert created.returncode == 0, created.stderr
    port = _free_port()
    server = subprocess.Popen(
        [
            VIGIE,
            "serve",
            "--port",
            str(port),
            "--migrate",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    context = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                url = f"https://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=2, context=context) as response:
                    assert response.status == 200
                    assert response.headers["strict-transport-security"] == "max-age=31536000"
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "vigie serve did not answer within 30 s"
                time.sleep(0.2)
        with pytest.raises(OSError):  # plain HTTP is not served on the TLS port
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        form = urllib.parse.urlencode(
            {"grant_type": "password", "username": "root", "password": password}
        ).encode()
        login = urllib.request.Request(f"https://127.0.0.1:{port}/api/v1/auth/token", data=form)
        with urllib.request.urlopen(login, timeout=10, context=context) as response:
            token = json.loads(response.read())["access_token"]
        cameras = urllib.request.Request(
            f"https://127.0.0.1:{port}/api/v1/cameras",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(cameras, timeout=10, context=context) as response:
            assert json.loads(response.read()) == []
    finally:
        server.terminate()
        server.wait(timeout=10)
    logs = (server.stdout.read() if server.stdout else "") + (
        server.stderr.read() if server.stderr else ""
    )
    assert "POST /api/v1/auth/token" in logs  # the access log is there...
    assert password not in logs and token not in logs  # ...without secrets
