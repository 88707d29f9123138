"""SteinLib benchmark: planning.steiner against networkx's Mehlhorn and Kou heuristics.

    python benchmarks/planning/steinlib_bench.py STEINLIB_DIR [--series B C D] [--out results.csv]
        [--chart benchmarks/planning/steinlib.png]

Each instance is solved by the three methods in the same run, one after the other, so they see
the same machine load. Gap is (cost - optimum) / optimum in percent, time is wall-clock seconds.
"""

from __future__ import annotations

import argparse
import csv
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
from networkx.algorithms.approximation import steiner_tree as nx_steiner_tree
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from planning.steiner import steiner_tree, tree_cost, warm_up
from planning.steinlib import read_stp

METHODS: dict[str, Callable[[nx.Graph, list], nx.Graph]] = {
    "vigie": steiner_tree,
    "nx-mehlhorn": lambda g, t: nx_steiner_tree(g, t, method="mehlhorn"),
    "nx-kou": lambda g, t: nx_steiner_tree(g, t, method="kou"),
}


@dataclass
class Row:
    """One method on one instance."""

    series: str
    instance: str
    nodes: int
    edges: int
    terminals: int
    optimum: float
    method: str
    cost: float
    gap_pct: float
    seconds: float


def run(folder: Path, series: list[str], console: Console) -> list[Row]:
    """Solve every instance of the series with every method."""
    rows = []
    for s in series:
        for path in sorted((folder / s).glob("*.stp")):
            inst = read_stp(path)
            if inst.optimum is None:
                console.print(f"[yellow]{path.name}: no Optimal line, skipped")
                continue
            for method, solve in METHODS.items():
                start = time.perf_counter()
                tree = solve(inst.graph, inst.terminals)
                seconds = time.perf_counter() - start
                cost = tree_cost(tree)
                gap = 100.0 * (cost - inst.optimum) / inst.optimum
                rows.append(
                    Row(
                        s,
                        inst.name,
                        inst.graph.number_of_nodes(),
                        inst.graph.number_of_edges(),
                        len(inst.terminals),
                        inst.optimum,
                        method,
                        cost,
                        gap,
                        seconds,
                    )
                )
            mine = {r.method: r for r in rows[-len(METHODS) :]}
            console.print(
                f"{inst.name:>4}  "
                + "  ".join(f"{m} {r.gap_pct:5.2f}% {r.seconds:6.2f}s" for m, r in mine.items())
            )
    return rows


def summary(rows: list[Row], series: list[str]) -> Table:
    """Per series and method: mean/max gap, mean/max time, and instances where vigie lost."""
    table = Table(title="SteinLib: gap to optimum and time per instance")
    columns = ("series", "method", "n", "mean gap %", "max gap %", "mean s", "max s", "total s")
    for col in (*columns, "worse", "speed vs mehlhorn", "faster on"):
        table.add_column(col, justify="right")
    for s in series:
        by_inst: dict[str, dict[str, Row]] = {}
        for r in rows:
            if r.series == s:
                by_inst.setdefault(r.instance, {})[r.method] = r
        for method in METHODS:
            own = [m[method] for m in by_inst.values()]
            if not own:
                continue
            worse = speed = faster = ""
            if method == "vigie":
                worse = str(
                    sum(
                        m["vigie"].cost > min(m["nx-mehlhorn"].cost, m["nx-kou"].cost)
                        for m in by_inst.values()
                    )
                )
                theirs = sum(m["nx-mehlhorn"].seconds for m in by_inst.values())
                speed = f"{theirs / sum(r.seconds for r in own):.2f}x"
                wins = sum(m["vigie"].seconds < m["nx-mehlhorn"].seconds for m in by_inst.values())
                faster = f"{wins}/{len(own)}"
            table.add_row(
                s,
                method,
                str(len(own)),
                f"{statistics.mean(r.gap_pct for r in own):.2f}",
                f"{max(r.gap_pct for r in own):.2f}",
                f"{statistics.mean(r.seconds for r in own):.3f}",
                f"{max(r.seconds for r in own):.3f}",
                f"{sum(r.seconds for r in own):.2f}",
                worse,
                speed,
                faster,
            )
    return table


def chart(rows: list[Row], out: Path) -> None:
    """Gap per instance per method, one panel per series."""
    plt.switch_backend("Agg")  # files only, no display needed
    series = sorted({r.series for r in rows})
    fig, axes = plt.subplots(len(series), 1, figsize=(11, 3.2 * len(series)), squeeze=False)
    for ax, s in zip(axes[:, 0], series, strict=True):
        names = sorted({r.instance for r in rows if r.series == s})
        width = 0.8 / len(METHODS)
        for k, method in enumerate(METHODS):
            gap = {r.instance: r.gap_pct for r in rows if r.series == s and r.method == method}
            xs = [i + (k - (len(METHODS) - 1) / 2) * width for i in range(len(names))]
            ax.bar(xs, [gap[n] for n in names], width, label=method)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_ylabel("gap to optimum (%)")
        ax.set_title(f"SteinLib series {s}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    """Parse the command line, run, print, write the CSV and the chart."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steinlib_dir", type=Path)
    parser.add_argument("--series", nargs="+", default=["B", "C", "D"])
    parser.add_argument("--out", type=Path, default=Path("steinlib_results.csv"))
    parser.add_argument(
        "--chart", type=Path, default=Path(__file__).resolve().parent / "steinlib.png"
    )
    args = parser.parse_args()
    console = Console()
    console.print(f"{platform.platform()}, Python {platform.python_version()}, nx {nx.__version__}")
    # Compiling (or loading from numba's cache) happens once per installation and process;
    # it is not part of solving an instance, so it happens before the clock starts.
    start = time.perf_counter()
    warm_up()
    console.print(
        f"kernels ready in {time.perf_counter() - start:.1f} s (numba compile or cache load)"
    )
    rows = run(args.steinlib_dir, args.series, console)
    console.print(summary(rows, args.series))
    with args.out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    chart(rows, args.chart)
    console.print(f"wrote {args.out} and {args.chart}")


if __name__ == "__main__":
    main()
