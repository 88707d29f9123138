"""Picture health (`supervision.imaging.assess`): precision, recall, false alarms, time per frame.

Builds a labelled set of 1920x1080 frames from real photographs (scikit-image's sample images,
shipped in its wheel) with `tests/helpers/picture_faults.py`: harmless variations as negatives,
each fault at several severities as positives. Every frame goes through a camera model (sensor
noise, JPEG) and is judged against the scene's reference (learned from 3 healthy snapshots) and
a previous snapshot of the same scene, passed once as the image and once as the compact
fingerprint a supervisor keeps (the verdicts must agree). Then times `assess` against the obvious
baseline, the same measurements on the full-resolution frame, and reports what a camera's
reference and previous fingerprint cost in memory and stored.

    .venv/bin/python benchmarks/imaging/imaging_bench.py --out benchmarks/imaging/results.csv \
        --chart benchmarks/imaging/confusion.png
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from supervision.imaging import FINGERPRINT_BYTES, PROBLEMS, Reference, assess  # noqa: E402
from supervision.probes import decode_snapshot  # noqa: E402
from tests.helpers import picture_faults as pf  # noqa: E402


@dataclass
class Case:
    scene: str
    label: str  # "" for a harmless frame, else the problem
    variant: str
    image: np.ndarray
    previous: np.ndarray


def _cases(name: str, rng: np.random.Generator) -> tuple[Reference, list[Case]]:  # noqa: PLR0912 (a flat list of cases)
    """The reference and every labelled frame of one scene."""
    canvas = pf.scene(name)
    base = pf.view(canvas)
    reference = Reference.learn([pf.camera(base, rng, sigma=2.0, quality=80) for _ in range(3)])
    cases: list[Case] = []

    def live(frame: np.ndarray, **kw: float) -> np.ndarray:
        return pf.camera(frame, rng, **kw)

    usual_previous = live(base, sigma=2.0, quality=80)

    def add(
        label: str,
        variant: str,
        frame: np.ndarray,
        *,
        previous: np.ndarray | None = None,
        sigma: float = 2.0,
        quality: int = 80,
        synthetic: bool = False,
    ) -> None:
        # A recorder's own screens (no signal, colour bars) are drawn, not seen by a sensor.
        image = pf.jpeg(frame, quality) if synthetic else live(frame, sigma=sigma, quality=quality)
        before = previous if previous is not None else usual_previous
        cases.append(Case(name, label, variant, image, before))

    # Harmless: what a healthy camera's picture does all day.
    for sigma in (1.0, 2.0, 4.0):
        for quality in (40, 60, 80, 95):
            add("", f"noise {sigma} jpeg {quality}", base, sigma=sigma, quality=quality)
    for gain, gamma in ((0.5, 1.0), (0.7, 1.0), (1.15, 1.0), (1.25, 1.0), (1.0, 0.8), (1.0, 1.25)):
        add("", f"light x{gain} gamma {gamma}", pf.light(base, gain, gamma))
    for gain in (0.9, 0.95, 1.05, 1.1):
        add("", f"exposure drift x{gain}", pf.light(base, gain))
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (1, -1)):
        add("", f"jitter {dx},{dy} px", pf.view(canvas, dx=dx, dy=dy))
    add("", "mast sway 0.2 deg", pf.view(canvas, angle=0.2))
    for level in (0.3, 0.45, 0.6):
        night = pf.night(base, rng, level=level)
        add("", f"night level {level}", night, previous=live(pf.night(base, rng, level=level)))
    add("", "night vs day previous", pf.night(base, rng))
    add("", "day vs night previous", base, previous=live(pf.night(base, rng)))

    # Faults, each at several severities.
    for level in (0, 16):
        add("video_loss", f"black {level}", pf.black(rng, level))
    add("video_loss", "blue screen", pf.blue_screen(), synthetic=True)
    add("video_loss", "colour bars", pf.colour_bars(), synthetic=True)
    shot = live(base)
    add_frozen = [("bit-identical", shot), ("re-encoded q80", pf.jpeg(shot, 80))]
    for variant, previous in add_frozen:
        cases.append(Case(name, "frozen", variant, shot, previous))
    night_shot = live(pf.night(base, rng))
    cases.append(Case(name, "frozen", "night bit-identical", night_shot, night_shot.copy()))
    cases.append(Case(name, "frozen", "night re-encoded q80", pf.jpeg(night_shot, 80), night_shot))
    for sigma in (8.0, 12.0, 16.0, 24.0):
        add("blurred", f"blur sigma {sigma}", pf.blurred(base, sigma))
    # Reported apart, neither positive nor negative: the photographs are upscaled 4-5x, so they
    # are already about as soft as a 3-4 px blur at 1080p; a 4-6 px blur barely changes them.
    for sigma in (4.0, 6.0):
        add("mild_blur", f"blur sigma {sigma}", pf.blurred(base, sigma))
    for kind in ("sticker", "bag", "spray"):
        for area in (0.5, 0.7, 0.95):
            add("covered", f"{kind} {area:.0%}", pf.covered(base, rng, kind, area))
    for degrees in (4, 7, 10):
        add("displaced", f"pan {degrees} deg", pf.view(canvas, dx=degrees * pf.PX_PER_DEGREE))
    add("displaced", "tilt 5 deg", pf.view(canvas, dy=-5 * pf.PX_PER_DEGREE))
    add("displaced", "pan 6 deg + roll 3 deg", pf.view(canvas, dx=-6 * pf.PX_PER_DEGREE, angle=3))
    for area in (0.3, 0.45, 0.6):
        add("glare", f"glare {area:.0%}", pf.glare(base, rng, area))
    return reference, cases


def _grey(image: np.ndarray) -> np.ndarray:
    """The frame as float32 grey (``--decode supervisor`` frames are grey already)."""
    return (image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)).astype(
        np.float32
    )


def _baseline(image: np.ndarray, reference_grey: np.ndarray, previous_grey: np.ndarray) -> None:
    """The obvious baseline: the same measurements on the full-resolution grey frame."""
    grey = _grey(image)
    cv2.Laplacian(grey, cv2.CV_32F)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=1)
    edges = cv2.magnitude(gx, gy)
    cv2.resize(edges, (16, 9), interpolation=cv2.INTER_AREA)
    np.percentile(grey, 99)
    np.std(grey)
    cv2.absdiff(grey, previous_grey).mean()
    cv2.phaseCorrelate(reference_grey, edges)


def main() -> None:  # noqa: PLR0915 (a script: build, judge, print, time, write)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", nargs="*", default=list(pf.SCENES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="CSV of every frame's verdict")
    parser.add_argument("--chart", type=Path, help="PNG confusion chart")
    parser.add_argument("--timing-frames", type=int, default=200)
    parser.add_argument(
        "--decode",
        choices=("full", "supervisor"),
        default="full",
        help="decode each frame's JPEG at full size, or as the supervisor decodes snapshots "
        "(supervision.probes.decode_snapshot: 1920x1080 at half size)",
    )
    args = parser.parse_args()
    if args.decode == "supervisor":
        pf.decode = decode_snapshot
    console = Console()
    rng = np.random.default_rng(args.seed)
    cv2.setNumThreads(1)  # one core per camera check: the service runs many checks side by side

    rows: list[dict[str, object]] = []
    timing_pool: list[tuple[np.ndarray, Reference, np.ndarray]] = []
    references: list[Reference] = []
    disagreements: list[str] = []
    started = time.perf_counter()
    for name in args.scenes:
        reference, cases = _cases(name, rng)
        references.append(reference)
        for case in cases:
            report = assess(case.image, reference, case.previous)
            # The supervisor keeps only the previous snapshot's fingerprint: same verdict?
            fingerprint = assess(case.previous, reference).fingerprint
            compact = assess(case.image, reference, fingerprint)
            if compact.problems != report.problems or (
                compact.measurements.difference != report.measurements.difference
            ):
                disagreements.append(f"{case.scene}: {case.label} {case.variant}")
            rows.append(
                {
                    "scene": case.scene,
                    "label": case.label or "harmless",
                    "variant": case.variant,
                    "found": " ".join(sorted(report.problems)),
                    **{
                        f"score_{p}": round(report.scores.get(p, float("nan")), 3) for p in PROBLEMS
                    },
                    **{k: round(v, 3) for k, v in vars(report.measurements).items()},
                }
            )
            if len(timing_pool) < 40:
                timing_pool.append((case.image, reference, case.previous))
    build_s = time.perf_counter() - started

    table = Table(title=f"picture health on {len(rows)} frames, {len(args.scenes)} scenes")
    for column in ("problem", "positives", "precision", "recall", "false positives", "missed"):
        table.add_column(column, justify="right")
    harmless = [r for r in rows if r["label"] == "harmless"]
    summary: dict[str, tuple[float, float]] = {}
    for problem in PROBLEMS:
        flagged = [
            r for r in rows if problem in str(r["found"]).split() and r["label"] != "mild_blur"
        ]
        positives = [r for r in rows if r["label"] == problem]
        tp = sum(1 for r in flagged if r["label"] == problem)
        precision = tp / len(flagged) if flagged else float("nan")
        recall = tp / len(positives) if positives else float("nan")
        summary[problem] = (precision, recall)
        missed = sorted(
            {str(r["variant"]) for r in positives if problem not in str(r["found"]).split()}
        )
        wrong = sorted({f"{r['label']}: {r['variant']}" for r in flagged if r["label"] != problem})
        table.add_row(
            problem,
            str(len(positives)),
            f"{precision:.3f}",
            f"{recall:.3f}",
            "; ".join(wrong[:4]),
            "; ".join(missed[:4]),
        )
    console.print(table)
    console.print(
        f"previous as fingerprint instead of image: {len(rows) - len(disagreements)}/{len(rows)} "
        f"frames with the same problems and difference {disagreements[:5]}"
    )
    alarms = [r for r in harmless if r["found"]]
    console.print(
        f"harmless frames: {len(harmless)}, false alarms: {len(alarms)} "
        f"({len(alarms) / len(harmless):.2%})"
    )
    for r in alarms[:10]:
        console.print(f"  {r['scene']}: {r['variant']} -> {r['found']}")
    mild = [r for r in rows if r["label"] == "mild_blur"]
    for variant in sorted({str(r["variant"]) for r in mild}):
        group = [r for r in mild if r["variant"] == variant]
        hits = sum("blurred" in str(r["found"]).split() for r in group)
        console.print(f"mild blur ({variant}, not counted): flagged blurred {hits}/{len(group)}")

    # What a supervisor keeps per camera: the reference and the last fingerprint.
    held = [r.nbytes for r in references]
    stored = [len(r.to_bytes()) for r in references]
    console.print(
        f"per camera in memory: reference arrays {max(held) / 1000:.1f} KB + previous "
        f"fingerprint {FINGERPRINT_BYTES / 1000:.1f} KB = "
        f"{(max(held) + FINGERPRINT_BYTES) / 1000:.1f} KB; reference.to_bytes() "
        f"{min(stored) / 1000:.1f}-{max(stored) / 1000:.1f} KB; 5,000 cameras: "
        f"{(max(held) + FINGERPRINT_BYTES) * 5000 / 1e6:.0f} MB"
    )

    # Time per frame, ours against the full-resolution baseline, interleaved in the same loop.
    # Wall time is what a check waits; CPU time (this thread's) is the work itself, which the
    # other jobs of a loaded machine do not inflate as much.
    ours, ours_cpu, base = [], [], []
    load_before = os.getloadavg()
    for i in range(args.timing_frames):
        image, reference, previous = timing_pool[i % len(timing_pool)]
        prev_report = assess(previous, reference).fingerprint
        t0, c0 = time.perf_counter(), time.thread_time()
        assess(image, reference, prev_report)
        ours.append(time.perf_counter() - t0)
        ours_cpu.append(time.thread_time() - c0)
        ref_grey = _grey(previous)
        t0 = time.perf_counter()
        _baseline(image, ref_grey, ref_grey)
        base.append(time.perf_counter() - t0)
    load_after = os.getloadavg()
    ours_ms, base_ms = np.array(ours) * 1000, np.array(base) * 1000
    cpu_ms = np.array(ours_cpu) * 1000
    console.print(
        f"assess: mean {ours_ms.mean():.2f} ms, p50 {np.percentile(ours_ms, 50):.2f} ms, "
        f"p99 {np.percentile(ours_ms, 99):.2f} ms; "
        f"full-resolution baseline: mean {base_ms.mean():.2f} ms, "
        f"p99 {np.percentile(base_ms, 99):.2f} ms; "
        f"speed-up {base_ms.mean() / ours_ms.mean():.1f}x "
        f"({timing_pool[0][0].shape[1]}x{timing_pool[0][0].shape[0]} "
        f"{'grey' if timing_pool[0][0].ndim == 2 else 'BGR'}, 1 OpenCV thread, "
        f"{args.timing_frames} frames)"
    )
    console.print(
        f"assess CPU time: mean {cpu_ms.mean():.2f} ms, p50 {np.percentile(cpu_ms, 50):.2f} ms, "
        f"p99 {np.percentile(cpu_ms, 99):.2f} ms"
    )
    console.print(
        f"load average (1 min) {load_before[0]:.1f} before timing, {load_after[0]:.1f} after, "
        f"on {os.cpu_count()} CPUs"
    )
    console.print(f"set built and judged in {build_s:.0f} s")

    if args.out:
        with args.out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    if args.chart:
        _chart(rows, args.chart)


def _chart(rows: list[dict[str, object]], path: Path) -> None:
    """A confusion chart: per true label (rows), the share of frames flagged with each problem."""
    matplotlib.use("Agg")
    labels = ["harmless", *PROBLEMS, "mild_blur"]
    columns = [*PROBLEMS, "none"]
    matrix = np.zeros((len(labels), len(columns)))
    for i, label in enumerate(labels):
        group = [r for r in rows if r["label"] == label]
        for j, problem in enumerate(columns):
            if problem == "none":
                hits = sum(1 for r in group if not r["found"])
            else:
                hits = sum(1 for r in group if problem in str(r["found"]).split())
            matrix[i, j] = hits / max(len(group), 1)
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_yticks(
        range(len(labels)), [f"{lab} ({sum(r['label'] == lab for r in rows)})" for lab in labels]
    )
    for i in range(len(labels)):
        for j in range(len(columns)):
            ax.text(
                j,
                i,
                f"{matrix[i, j]:.2f}",
                ha="center",
                va="center",
                color="white" if matrix[i, j] > 0.5 else "black",
                fontsize=8,
            )
    ax.set_xlabel("flagged by assess")
    ax.set_ylabel("true label (frames)")
    ax.set_title("Picture health: share of frames flagged")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
