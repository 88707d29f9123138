"""`vigie simulate` in a subprocess, for the tests that need real cameras over HTTP.

Shared by ``tests/cameras``, ``tests/supervision`` and the supervisor harness, which run their own
simulators on port ranges of their own so that all can run in one session.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def scenario_yaml(
    username: str,
    password: str,
    faults: dict[int, dict[str, Any]],
    personalities: dict[int, str] | None = None,
    tls: list[int] | None = None,
) -> str:
    """A scenario file giving each camera index its fault (the others are healthy), its
    vendor personality (the others are the default's), and HTTPS to those of ``tls``."""
    lines = [
        f"username: {username}",
        f"password: {password}",
        "faults:" if faults else "faults: []",
    ]
    for index, rule in faults.items():
        params = ", ".join(f"{k}: {v}" for k, v in rule.items())
        lines.append(f"  - {{cameras: {index}, {params}}}")
    if personalities:
        lines.append("personalities:")
        lines += [f"  - {{cameras: {i}, personality: {p}}}" for i, p in personalities.items()]
    if tls:
        lines.append("tls:")
        lines += [f"  - {{cameras: {i}}}" for i in tls]
    return "\n".join(lines) + "\n"


def set_fault(control_port: int, token: str, index: int, fault: dict[str, Any] | None) -> None:
    """Replace camera ``index``'s faults through the control API (``None``: healthy again)."""
    url = f"http://127.0.0.1:{control_port}/cameras/{index}/faults"
    headers = {"Authorization": f"Bearer {token}"}
    if fault is None:
        response = httpx.delete(url, headers=headers)
    else:
        response = httpx.put(url, headers=headers, json=fault)
    response.raise_for_status()


@contextmanager
def running_simulator(
    folder: Path,
    *,
    cameras: int,
    base_port: int,
    username: str,
    password: str,
    faults: dict[int, dict[str, Any]],
    extra_args: tuple[str, ...] = (),
    personalities: dict[int, str] | None = None,
    tls: list[int] | None = None,
) -> Iterator[str]:
    """Start the simulator, wait for its control token, yield it; stop it with Ctrl-C.

    Cameras listen on ``base_port`` to ``base_port + cameras - 1``, the control API on
    ``base_port + cameras``. Pick ports below 32768: Linux hands out outgoing ports above.
    ``extra_args`` go to ``vigie simulate`` as they are (e.g. ``("--snapshot-size", "main")``).
    """
    scenario = folder / "scenario.yaml"
    scenario.write_text(
        scenario_yaml(username, password, faults, personalities, tls), encoding="utf-8"
    )
    token_file = folder / "token"
    vigie = Path(sys.executable).with_name("vigie")
    process = subprocess.Popen(
        [
            *(str(vigie), "simulate", "--cameras", str(cameras), "--port", str(base_port)),
            *("--scenario", str(scenario), "--token-file", str(token_file)),
            *extra_args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not token_file.exists() or not token_file.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"the simulator did not start:\n{output}")
            time.sleep(0.1)
        yield token_file.read_text().strip()
    finally:
        process.send_signal(2)  # Ctrl-C: it must stop cleanly
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
