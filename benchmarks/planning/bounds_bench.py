"""DCUT lower bound on SteinLib: how close to the known optimum, how often proven optimal, how fast.

    .venv/bin/python benchmarks/planning/bounds_bench.py STEINLIB_DIR [--series B C D]
        [--max-edges N] [--time-limit S] [--csv out.csv]

STEINLIB_DIR holds one folder per series (B/, C/, ...) of .stp files with an ``Optimal N`` line.
Prints one row per instance, then a summary per series. Results are in BOUNDS.md.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planning.bounds import steiner_lower_bound
from planning.steinlib import read_stp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steinlib_dir", type=Path)
    parser.add_argument("--series", nargs="+", default=["B", "C"])
    parser.add_argument("--max-edges", type=int, default=100_000)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--csv", type=Path, help="also write the per-instance rows here")
    args = parser.parse_args(argv)

    console = Console(width=max(120, Console().width))
    rows: list[dict] = []
    detail = Table(title="DCUT lower bound per instance")
    for column in ("instance", "edges*", "terms", "optimum", "bound", "bound/opt", "proven"):
        detail.add_column(column, justify="right")
    for column in ("method", "rounds", "s"):
        detail.add_column(column, justify="right")
    detail.caption = "edges*: after reductions; proven: the bound is the optimum"
    for series in args.series:
        files = sorted((args.steinlib_dir / series).glob("*.stp"))
        if not files:
            console.print(f"[red]no .stp files in {args.steinlib_dir / series}[/red]")
            return 1
        for path in files:
            instance = read_stp(path)
            bound = steiner_lower_bound(
                instance.graph,
                instance.terminals,
                max_edges=args.max_edges,
                time_limit=args.time_limit,
            )
            row = {"series": series, "instance": path.stem, "optimum": instance.optimum}
            if bound is None:
                row.update(bound=None, ratio=None, optimal=None, method="skipped")
                row.update(edges=None, terminals=len(instance.terminals), rounds=0, seconds=0.0)
            else:
                ratio = bound.lower / instance.optimum if instance.optimum else None
                row.update(bound=bound.lower, ratio=ratio, optimal=bound.optimal)
                row.update(method=bound.method, edges=bound.edges, terminals=bound.terminals)
                row.update(rounds=bound.iterations, seconds=bound.seconds)
            rows.append(row)
            cells = (
                row["instance"],
                str(row["edges"]),
                str(row["terminals"]),
                f"{row['optimum']:g}" if row["optimum"] is not None else "?",
                f"{row['bound']:.4f}" if row["bound"] is not None else "-",
                f"{row['ratio']:.6f}" if row["ratio"] is not None else "-",
                "yes" if row["optimal"] else "no",
                row["method"],
                str(row["rounds"]),
                f"{row['seconds']:.2f}",
            )
            detail.add_row(*cells)
            console.print(" ".join(cells), highlight=False)  # progress on long runs
    console.print(detail)
    console.print(_summary(rows, args.series))
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


def _summary(rows: list[dict], series_list: list[str]) -> Table:
    table = Table(title="DCUT lower bound per series")
    for column in ("series", "instances", "bounded", "mean bound/opt", "min bound/opt"):
        table.add_column(column, justify="right")
    for column in ("proven", "mean s", "max s"):
        table.add_column(column, justify="right")
    for series in series_list:
        mine = [r for r in rows if r["series"] == series]
        done = [r for r in mine if r["bound"] is not None]
        ratios = [r["ratio"] for r in done if r["ratio"] is not None]
        seconds = [r["seconds"] for r in done]
        table.add_row(
            series,
            str(len(mine)),
            str(len(done)),
            f"{statistics.fmean(ratios):.6f}" if ratios else "-",
            f"{min(ratios):.6f}" if ratios else "-",
            f"{sum(bool(r['optimal']) for r in done)}/{len(done)}",
            f"{statistics.fmean(seconds):.2f}" if seconds else "-",
            f"{max(seconds):.2f}" if seconds else "-",
        )
    return table


if __name__ == "__main__":
    sys.exit(main())
