"""Time `assess` of an earlier commit against this checkout's, interleaved on the same frames.

On a shared machine the load changes from one run to the next, so two versions are only
comparable in the same loop. The earlier version's two modules are read with `git show` into a
temporary package; each frame is judged by both, alternately, with a ready reference and the
previous frame (its report for the old version, its fingerprint for the new one). Prints wall
and thread CPU time per frame, and the load average.

    .venv/bin/python benchmarks/imaging/compare_versions.py --rev fb63952 --frames 300
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from supervision import imaging as current  # noqa: E402
from tests.helpers import picture_faults as pf  # noqa: E402


def _earlier(rev: str, into: Path) -> ModuleType:
    """The ``supervision.imaging`` module of commit ``rev``, imported as ``earlier.imaging``."""
    package = into / "earlier"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("imaging.py", "_image_features.py"):
        source = subprocess.run(
            ["git", "show", f"{rev}:supervision/{name}"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        source = source.replace("from supervision._image_features", "from earlier._image_features")
        (package / name).write_text(source)
    sys.path.insert(0, str(into))
    return importlib.import_module("earlier.imaging")


def _summary(label: str, values: list[float]) -> str:
    ms = np.array(values) * 1000
    return (
        f"{label}: mean {ms.mean():.2f} ms, p50 {np.percentile(ms, 50):.2f}, "
        f"p90 {np.percentile(ms, 90):.2f}, p99 {np.percentile(ms, 99):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the earlier commit")
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        old = _earlier(args.rev, Path(tmp))
        rng = np.random.default_rng(1)
        pool = []
        for name in ("astronaut", "rocket", "brick"):
            base = pf.view(pf.scene(name))
            shots = [pf.camera(base, rng) for _ in range(3)]
            pool.append(
                (
                    pf.camera(base, rng),
                    pf.camera(base, rng),
                    old.Reference.learn(shots),
                    current.Reference.learn(shots),
                )
            )
        times: dict[str, list[float]] = {
            "old wall": [],
            "new wall": [],
            "old cpu": [],
            "new cpu": [],
        }
        load_before = os.getloadavg()
        for i in range(args.frames):
            image, previous, old_reference, new_reference = pool[i % len(pool)]
            old_previous = old.assess(previous, old_reference)
            new_previous = current.assess(previous, new_reference).fingerprint
            for version, module, reference, before in (
                ("old", old, old_reference, old_previous),
                ("new", current, new_reference, new_previous),
            ):
                t0, c0 = time.perf_counter(), time.thread_time()
                module.assess(image, reference, before)
                times[f"{version} wall"].append(time.perf_counter() - t0)
                times[f"{version} cpu"].append(time.thread_time() - c0)
        load_after = os.getloadavg()
    for label, values in times.items():
        print(_summary(label, values))
    print(
        f"CPU time old/new: {np.mean(times['old cpu']) / np.mean(times['new cpu']):.2f}x; "
        f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, "
        f"on {os.cpu_count()} CPUs; {args.frames} frames of 1920x1080 BGR, 1 OpenCV thread"
    )


if __name__ == "__main__":
    main()
