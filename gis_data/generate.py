"""Regenerate the committed sample: `python gis_data/generate.py` (from the repository root).

Runs the sample generator with its default scope (CA Evreux Portes de Normandie) and seed on the
open data in gis_data/sources, and writes gis_data/eure/eure.gpkg. Prints the notes and counts so
the README can be checked against what was written.
"""

from __future__ import annotations

import time
from pathlib import Path

from planning.sample import generate_sample, write_sample

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
OUT = HERE / "eure" / "eure.gpkg"


def main() -> None:
    started = time.perf_counter()
    sample = generate_sample(
        SOURCES / "communes-27-eure.geojson", SOURCES / "communes-27-admin.json"
    )
    generated = time.perf_counter()
    write_sample(sample, OUT)
    written = time.perf_counter()
    print(f"scope {sample.scope}, seed {sample.seed}")
    for note in sample.notes:
        print(f"note: {note}")
    for name, frame in sample.layers.items():
        print(f"{name}: {len(frame)} features")
    print(
        f"generated in {generated - started:.1f} s, written in {written - generated:.1f} s: "
        f"{OUT} ({OUT.stat().st_size / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
