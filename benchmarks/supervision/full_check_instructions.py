"""Instructions per full check, counted by valgrind's callgrind: this code against another checkout.

This VM's CPU time drifts by 10 to 40 % within an hour (``README.md``: the naive poller's CPU per
check moved from 0.60 to 0.84 ms between runs), more than the few per cent two versions of the
full check differ by. Instructions retired do not drift: the same run counts the same to 0.2 %
whatever else the machine does. ``picture_cost.py`` runs under callgrind with 4 rounds and with 8
(10 cameras), and the difference over the 40 checks of rounds 5 to 8 (steady state: references
learned, URIs kept) gives the instructions of one full check, without the start-up. Each
checkout runs its own code (``PYTHONPATH``) with this checkout's script; with ``--onvif`` the
cameras are ``vigie simulate``'s over HTTP (the whole check), else canned (the picture work
alone, plus the same snapshot generation for both).

Usage: ``.venv/bin/python benchmarks/supervision/full_check_instructions.py --baseline
/tmp/before [--onvif]`` where ``/tmp/before`` is a worktree of the commit to compare with
(``git worktree add /tmp/before fed9ff7``). About 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CAMERAS = 10
ROUNDS = (4, 8)


def instructions(checkout: Path, rounds: int, onvif: bool, folder: Path) -> int:
    """Instructions callgrind counts for one ``picture_cost.py`` run of ``checkout``'s code."""
    out = folder / f"{checkout.name}-{rounds}.callgrind"
    command = [
        *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"),
        # the checkout's own copy: the script puts its checkout first on the path
        *(sys.executable, str(checkout / "benchmarks/supervision/picture_cost.py")),
        *("--cameras", str(CAMERAS), "--rounds", str(rounds), "--label", "callgrind"),
        *(("--onvif",) if onvif else ()),
    ]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        command, check=False, cwd=checkout, env=env, capture_output=True, text=True
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or found is None:
        raise SystemExit(
            f"{checkout}: picture_cost.py failed under callgrind:\n{done.stderr[-3000:]}"
        )
    return int(found.group(1))


def per_check(checkout: Path, onvif: bool, folder: Path) -> float:
    low, high = (instructions(checkout, rounds, onvif, folder) for rounds in ROUNDS)
    return (high - low) / (CAMERAS * (ROUNDS[1] - ROUNDS[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--onvif", action="store_true", help="the simulator's cameras over HTTP")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # Copied so that the baseline runs this script's picture_cost.py (same rounds, cameras).
        baseline = args.baseline.resolve()
        (baseline / "benchmarks/supervision/picture_cost.py").write_bytes(
            (HERE / "picture_cost.py").read_bytes()
        )
        now = per_check(REPO, args.onvif, Path(folder))
        before = per_check(baseline, args.onvif, Path(folder))
    record = {
        "cameras": "vigie simulate over HTTP, 1920x1080" if args.onvif else "canned, 1920x1080",
        "instructions_per_full_check_M": round(now / 1e6, 2),
        "baseline_instructions_per_full_check_M": round(before / 1e6, 2),
        "change": f"{(now - before) / before:+.1%}",
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
