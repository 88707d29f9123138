"""Picture health on every camera of the Eure demo at every snapshot size, as the supervisor
judges a new camera: its first snapshot without reference, the next ones and each simulator
fault against the reference that first snapshot started (``judge_frames=1``). The baseline, in
the same run, is the first wave's rule: fixed thresholds until three snapshots are learned
(``judge_frames=3``).

    .venv/bin/python benchmarks/imaging/snapshot_sizes.py [--cameras 253] [--out FILE]

Writes the table to ``results_snapshot_sizes.txt`` beside this script (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cameras.simulator.scenes import warm_up
from supervision.imaging import Thresholds
from tests.helpers.snapshot_sizes import judge_camera, snapshot_sizes

RULES = {"judge_frames=1": Thresholds(), "judge_frames=3 (baseline)": Thresholds(judge_frames=3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=253)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("results_snapshot_sizes.txt")
    )
    args = parser.parse_args()
    sizes = snapshot_sizes()
    warm_up(sizes)
    lines = [
        f"# {args.cameras} simulator cameras (the Eure demo's scenes) at each snapshot size",
        "# first: first snapshots whose fallback verdict would open an incident (not learned);",
        "# marginal: first snapshots with a marginal fallback verdict (learned, no incident);",
        "# false: healthy later snapshots with a problem; missed: faults not reported (by kind).",
        "rule\tsize\tcameras\tright\tfirst\tmarginal\tfalse\tmissed\tseconds",
    ]
    for name, thresholds in RULES.items():
        for size in sizes:
            started = time.perf_counter()
            verdicts = [judge_camera(i, size, thresholds) for i in range(args.cameras)]
            missed = Counter(kind for v in verdicts for kind, _ in v.missed)
            row = [
                name,
                f"{size[0]}x{size[1]}",
                str(len(verdicts)),
                str(sum(v.right for v in verdicts)),
                str(sum(v.first_alarms for v in verdicts)),
                str(sum(bool(v.first) and not v.first_alarms for v in verdicts)),
                str(sum(len(v.false_alarms) for v in verdicts)),
                ", ".join(f"{k} {n}" for k, n in sorted(missed.items())) or "0",
                f"{time.perf_counter() - started:.0f}",
            ]
            lines.append("\t".join(row))
            print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
