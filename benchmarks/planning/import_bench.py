"""Time `planning.importers.osm.import_osm` on a real extract; report rates and peak memory.

    .venv/bin/python benchmarks/planning/import_bench.py EXTRACT.osm.pbf [--repeat 3]

Prints one table and writes `import_results.json` beside this file: file size, highway ways
read, road segments written, wall time (best of --repeat), ways/s, MB/s, the resident memory
before and at peak, and the time a 150 MB département extract would take at the measured rate
(linear in the file's size: the import reads it twice, streaming).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planning.importers.osm import import_osm

HERE = Path(__file__).resolve().parent
DEPARTEMENT_MB = 150.0


def _rss_mib() -> float:
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extract", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = _rss_mib()
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = import_osm(args.extract)
        times.append(time.perf_counter() - started)
    best = min(times)
    size_mb = args.extract.stat().st_size / 1e6
    segments = len(result.layers["roads"])
    ways = result.report.mapped["roads"] and (
        len({i.split("-")[0] for i in result.layers["roads"]["id"]}) + len(result.report.unmapped)
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "extract": args.extract.name,
        "size_mb": round(size_mb, 2),
        "highway_ways": ways,
        "segments": segments,
        "seconds": round(best, 3),
        "ways_per_s": round(ways / best),
        "segments_per_s": round(segments / best),
        "mb_per_s": round(size_mb / best, 2),
        "rss_before_mib": round(before),
        "peak_rss_mib": round(peak),
        "departement_150mb_estimate_s": round(DEPARTEMENT_MB / (size_mb / best)),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    table = Table(title="OSM import")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in row.items():
        table.add_row(key, str(value))
    Console().print(table)
    (HERE / "import_results.json").write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
