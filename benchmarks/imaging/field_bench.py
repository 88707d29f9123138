"""Field set: `supervision.imaging.assess` on real street photographs, tuning and held-out parts.

Every scene of ``field/photos/`` (real photographs of outdoor public spaces, sources and
licences in ``field/photos/SOURCES.md``) becomes the frames a street camera sends
(``field/sequences.py``): harmless day, dusk, infrared night, headlights, rain, fog, snow, wind
shake, low-bit-rate compression and day/night switch frames, and the faults of
``tests/helpers/picture_faults.py`` made on the day and on the infrared picture. Each frame is
judged as the supervisor judges a snapshot: decoded once into its grey and its colour
(``supervision.jpeg.decode``), which tells its lighting regime (day: colour; night: infrared,
no colour), with the previous snapshot's fingerprint, against the scene camera's day
and night references (``RegimeReferences``). The day reference is learned from 3 healthy day
snapshots; the night one as the supervisor learns it: from the first frames of the night regime
found healthy, in sequence order (the infrared sequence's), each judged against the day
reference until the night one judges. The report says which regime each frame was told in
(against how the camera sent it) and which reference judged it.

The scenes are split by place into a tuning part and a held-out part (``field/split.json``):
thresholds are to be chosen on the tuning part only, the targets are measured on the held-out
part. The table reports both, per problem, and the false alarms by condition.

    .venv/bin/python benchmarks/imaging/field_bench.py            # all 21 scenes, about 9 min
    .venv/bin/python benchmarks/imaging/field_bench.py --quick    # one scene per part, 1 min
    .venv/bin/python benchmarks/imaging/field_bench.py --part tuning   # the part to tune on
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.imaging.field import sequences as seq  # noqa: E402
from supervision import jpeg  # noqa: E402
from supervision.imaging import PROBLEMS, Reference, RegimeReferences, assess  # noqa: E402
from supervision.regime import REGIMES  # noqa: E402
from tests.helpers import picture_faults as pf  # noqa: E402

HERE = Path(__file__).resolve().parent
PARTS = ("tuning", "held_out")

TARGET_PRECISION = 0.95
TARGET_RECALL = 0.95
TARGET_FALSE_ALARMS = 0.005
"""Issue 22's targets on the held-out part: per problem, and over the harmless frames."""


class Decoded(np.ndarray):
    """A snapshot's grey picture with its JPEG's colour, as the supervisor decodes it."""

    chroma: float | None = None


DECODE_MS: list[float] = []
"""CPU time of each decoding (grey and colour): what a check pays before ``assess``."""


def decode(content: bytes) -> np.ndarray | None:
    """The supervisor's decoding (``supervision.jpeg.decode``), the colour kept on the array."""
    t0 = time.thread_time()
    grey, chroma = jpeg.decode(content)
    DECODE_MS.append((time.thread_time() - t0) * 1000)
    if grey is None:
        return None
    picture = grey.view(Decoded)
    picture.chroma = chroma
    return picture


def _chroma(image: np.ndarray) -> float | None:
    return getattr(image, "chroma", None)


def judge(
    scenes: Iterable[tuple[str, str]], seed: int
) -> tuple[list[dict[str, object]], list[float]]:
    """Every frame of the scenes judged as the supervisor does; the rows and assess's CPU times."""
    rows: list[dict[str, object]] = []
    cpu_ms: list[float] = []
    for part, scene in scenes:
        started = time.perf_counter()
        references = RegimeReferences(day=Reference.learn(seq.reference_shots(scene, seed)))
        count = 0
        for frame in seq.frames(scene, seed):
            # The supervisor keeps only the previous snapshot's fingerprint.
            previous = frame.previous
            fingerprint = assess(previous, references, chroma=_chroma(previous)).fingerprint
            t0 = time.thread_time()
            report = assess(frame.image, references, fingerprint, chroma=_chroma(frame.image))
            cpu_ms.append((time.thread_time() - t0) * 1000)
            own = references.of(report.regime)
            if not report.problems and not own.ready():  # as the supervisor learns
                references = references.learned(
                    report.regime, own.update(frame.image, report=report)
                )
            rows.append(
                {
                    "part": part,
                    "scene": scene,
                    "label": frame.label or "harmless",
                    "condition": frame.condition,
                    "variant": frame.variant,
                    "infrared": frame.infrared,
                    "regime": report.regime,
                    "reference": report.reference_regime or "",
                    "found": " ".join(sorted(report.problems)),
                    **{
                        f"score_{p}": round(report.scores.get(p, float("nan")), 3) for p in PROBLEMS
                    },
                }
            )
            count += 1
        print(
            f"{part:8s} {scene:20s} {count} frames in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return rows, cpu_ms


def _found(row: dict[str, object]) -> set[str]:
    return set(str(row["found"]).split())


def _ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f}" if denominator else "n/a"


def problem_table(rows: list[dict[str, object]]) -> list[str]:
    """Per problem: positives, precision, recall (also on the day and the IR picture apart)."""
    lines = [
        "| problem | positives | precision | recall | recall day | recall IR | missed (examples) |",
        "|---|---|---|---|---|---|---|",
    ]
    for problem in PROBLEMS:
        positives = [r for r in rows if r["label"] == problem]
        flagged = [r for r in rows if problem in _found(r)]
        hits = [r for r in positives if problem in _found(r)]
        right = [r for r in flagged if r["label"] == problem]
        by_regime = []
        for regime in ("day", "ir"):
            group = [r for r in positives if r["condition"] == regime]
            found = sum(problem in _found(r) for r in group)
            by_regime.append(_ratio(found, len(group)))
        missed = sorted(
            {f"{r['condition']} {r['variant']}" for r in positives if problem not in _found(r)}
        )
        lines.append(
            f"| {problem} | {len(positives)} | {_ratio(len(right), len(flagged))} | "
            f"{_ratio(len(hits), len(positives))} | {by_regime[0]} | {by_regime[1]} | "
            f"{'; '.join(missed[:3])} |"
        )
    return lines


def alarm_table(rows: list[dict[str, object]]) -> list[str]:
    """False alarms over the harmless frames, by condition, with what was raised."""
    harmless = [r for r in rows if r["label"] == "harmless"]
    lines = [
        "| condition | harmless frames | false alarms | share | raised |",
        "|---|---|---|---|---|",
    ]
    for condition in (*seq.CONDITIONS, "all"):
        group = (
            harmless if condition == "all" else [r for r in harmless if r["condition"] == condition]
        )
        if not group:
            continue
        alarms = [r for r in group if r["found"]]
        raised: dict[str, int] = {}
        for r in alarms:
            for problem in _found(r):
                raised[problem] = raised.get(problem, 0) + 1
        lines.append(
            f"| {condition} | {len(group)} | {len(alarms)} | {_ratio(len(alarms), len(group))} | "
            f"{', '.join(f'{p} {n}' for p, n in sorted(raised.items()))} |"
        )
    return lines


def _regime_told(row: dict[str, object]) -> bool | None:
    """Whether the frame's regime was told right; ``None`` when it has none to tell: a video
    loss, or a frozen frame re-encoded from the bench's grey decode (its colour lost)."""
    if row["label"] == "video_loss" or "re-encoded" in str(row["variant"]):
        return None
    return (row["regime"] == "night") == bool(row["infrared"])


def regime_table(rows: list[dict[str, object]]) -> list[str]:
    """How the regime was told (against how the camera sent the frame), and which reference
    judged the frames of each regime."""
    lines = [
        "| sent as | frames | told right | told wrong (examples) | judged by day ref | "
        "judged by night ref |",
        "|---|---|---|---|---|---|",
    ]
    for infrared, name in ((False, "colour (day)"), (True, "infrared (night)")):
        group = [r for r in rows if bool(r["infrared"]) == infrared and _regime_told(r) is not None]
        right = [r for r in group if _regime_told(r)]
        wrong = sorted({f"{r['condition']} {r['variant']}" for r in group if not _regime_told(r)})
        by = {regime: sum(r["reference"] == regime for r in group) for regime in REGIMES}
        lines.append(
            f"| {name} | {len(group)} | {_ratio(len(right), len(group))} | "
            f"{len(group) - len(right)}{': ' + '; '.join(wrong[:3]) if wrong else ''} | "
            f"{by['day']} | {by['night']} |"
        )
    return lines


def verdict(rows: list[dict[str, object]]) -> list[str]:
    """Which of issue 22's targets the part meets."""
    lines = []
    for problem in PROBLEMS:
        positives = [r for r in rows if r["label"] == problem]
        flagged = [r for r in rows if problem in _found(r)]
        right = sum(r["label"] == problem for r in flagged)
        hits = sum(problem in _found(r) for r in positives)
        precision = right / len(flagged) if flagged else 1.0
        recall = hits / len(positives) if positives else 1.0
        ok = precision >= TARGET_PRECISION and recall >= TARGET_RECALL
        lines.append(
            f"- {problem}: precision {precision:.3f}, recall {recall:.3f} "
            f"(target >= {TARGET_PRECISION} each): {'met' if ok else 'MISSED'}"
        )
    harmless = [r for r in rows if r["label"] == "harmless"]
    alarms = sum(bool(r["found"]) for r in harmless)
    share = alarms / len(harmless) if harmless else 0.0
    lines.append(
        f"- false alarms: {alarms}/{len(harmless)} = {share:.2%} (target <= "
        f"{TARGET_FALSE_ALARMS:.1%}): {'met' if share <= TARGET_FALSE_ALARMS else 'MISSED'}"
    )
    switch = [r for r in harmless if r["condition"] == "switch"]
    at_switch = [f"{r['scene']} {r['variant']}: {r['found']}" for r in switch if r["found"]]
    lines.append(
        f"- day/night switch: {len(at_switch)} alarms over {len(switch)} switch frames "
        f"(target: none): {'met' if not at_switch else 'MISSED'}"
        + (f" ({'; '.join(at_switch[:4])})" if at_switch else "")
    )
    return lines


def report(rows: list[dict[str, object]], cpu_ms: list[float], seed: int) -> list[str]:
    """The whole text report: per part, the problems, the false alarms, the targets."""
    lines = [
        "# Field set: supervision.imaging.assess",
        "",
        f"seed {seed}; decode as the supervisor (grey, and the JPEG's colour for the regime); "
        "references: day from 3 healthy day snapshots of the scene, night from its first 3 "
        "healthy night frames in sequence order; previous: the previous snapshot's fingerprint",
    ]
    for part in PARTS:
        group = [r for r in rows if r["part"] == part]
        if not group:
            continue
        scenes = sorted({str(r["scene"]) for r in group})
        lines += [
            "",
            f"## {part} part: {len(scenes)} scenes, {len(group)} frames "
            f"({sum(r['label'] == 'harmless' for r in group)} harmless)",
            "",
            "scenes: " + ", ".join(scenes),
            "",
            *problem_table(group),
            "",
            *alarm_table(group),
            "",
            *regime_table(group),
            "",
            f"targets ({'measured here' if part == 'held_out' else 'for information: tuning'}):",
            *verdict(group),
        ]
        alarms = [r for r in group if r["label"] == "harmless" and r["found"]]
        if alarms:
            lines += ["", "false alarms (first 12):"]
            lines += [
                f"  {r['scene']} {r['condition']} {r['variant']} -> {r['found']}"
                for r in alarms[:12]
            ]
    times = np.array(cpu_ms)
    lines += [
        "",
        f"assess CPU time per 1920x1080 grey frame: p50 {np.percentile(times, 50):.2f} ms, "
        f"p99 {np.percentile(times, 99):.2f} ms, mean {times.mean():.2f} ms "
        f"({len(times)} frames, 1 OpenCV thread)",
        f"decoding CPU time per 1920x1080 JPEG (grey and colour, {jpeg.backend()}): "
        f"p50 {np.percentile(DECODE_MS, 50):.2f} ms, mean {np.mean(DECODE_MS):.2f} ms",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", nargs="*", help="only these scenes (default: every scene)")
    parser.add_argument(
        "--quick", action="store_true", help="the first scene of each part only (a smoke run)"
    )
    parser.add_argument(
        "--part", choices=PARTS, help="only this part (tune on 'tuning': never look at the other)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "field_results.txt")
    parser.add_argument("--csv", type=Path, default=HERE / "field_results.csv")
    args = parser.parse_args()
    pf.decode = decode  # as the supervisor decodes snapshots: straight to grey, and the colour
    cv2.setNumThreads(1)  # one core per camera check: the service runs many checks side by side

    parts = seq.split()
    chosen = (args.part,) if args.part else PARTS
    scenes = [(part, scene) for part in chosen for scene in parts[part]]
    if args.scenes:
        scenes = [(part, scene) for part, scene in scenes if scene in args.scenes]
    if args.quick:
        scenes = [(part, parts[part][0]) for part in chosen]
    started = time.perf_counter()
    rows, cpu_ms = judge(scenes, args.seed)
    lines = report(rows, cpu_ms, args.seed)
    lines.append(f"built and judged in {time.perf_counter() - started:.0f} s")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    with args.csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
