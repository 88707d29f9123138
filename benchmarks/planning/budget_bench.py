"""Budget-constrained plans (`planning.budget`) against the priority-order baselines, in one run.

    python benchmarks/planning/budget_bench.py LAYERS.gpkg [...] [--shares 0.25 0.5 0.75]
        [--envelope 2500000] [--priorities default|drawn] [--out results.json]

For each layers file and each envelope (shares of the full plan's cost, and fixed amounts):

- ``vigie``: `plan_within_budget` (greedy by priority per marginal euro, real plans, repair and
  fill): the priority connected, the real cost, the time;
- ``stop``: masts by priority (ties by id), each at its marginal cost on the shared tree, stopping
  at the first that does not fit; ``skip``: the same, passing over it. Their priority and model
  cost, their time, and the real plan of the masts they chose (`route_masts` on them: is it
  within the envelope?).

``--priorities drawn`` gives every mast a priority 1-3 from a hash of its id (the sample has
none; by default critical masts count 2 and the others 1).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planning.budget import (
    MarginalModel,
    mast_priority,
    plan_subset,
    plan_within_budget,
    priority_order,
    priority_prefix_real,
    total_cost,
    total_priority,
)
from planning.network import build_network
from planning.parameters import PlanParameters
from planning.routing import route_masts
from planning.transport import build_transport
from planning.validate import validate_path

console = Console(width=180)


def drawn_priority(mast_id: str) -> int:
    """1, 2 or 3, the same on every run and machine."""
    return 1 + hashlib.sha256(str(mast_id).encode()).digest()[0] % 3


def bench_file(path: Path, envelopes: list[tuple[str, float | None]], drawn: bool) -> list[dict]:
    params = PlanParameters()
    report = validate_path(path)
    net = build_network(report.layers, params)
    transport = build_transport(net, report.layers, params)  # to the CSU, as `vigie plan` does
    if drawn:
        for mast, node in net.mast_nodes.items():
            net.graph.nodes[node]["priority"] = drawn_priority(mast)
    started = time.perf_counter()
    full = route_masts(net, params, transport=transport)
    full_seconds = time.perf_counter() - started
    masts = sorted(m.mast_id for m in full.masts if m.primary is not None)
    rows = []
    for label, amount in envelopes:
        envelope = (
            amount if amount is not None else float(label.rstrip("%")) / 100 * full.total_cost
        )
        started = time.perf_counter()
        ours = plan_within_budget(net, params, envelope, full=full, transport=transport)
        # The full plan is part of the method: count it once, as `vigie plan --budget` does.
        ours_seconds = time.perf_counter() - started + full_seconds
        row = {
            "layers": path.name,
            "envelope": label,
            "envelope_eur": round(envelope, 2),
            "full_plan_eur": round(full.total_cost, 2),
            "priority_total": ours.priority_total,
            "vigie": {
                "priority": ours.priority_connected,
                "masts": len(ours.chosen),
                "spent_eur": ours.spent_eur,
                "seconds": round(ours_seconds, 2),
                "plans": ours.plans,
                "method": ours.method,
            },
        }
        for name, skip in (("stop", False), ("skip", True)):
            started = time.perf_counter()
            steps = priority_order(MarginalModel(net, params, masts), masts, envelope, skip=skip)
            seconds = time.perf_counter() - started
            chosen = [s.mast_id for s in steps]
            real = plan_subset(net, params, chosen, transport=transport).total_cost
            row[name] = {
                "priority": total_priority(steps),
                "masts": len(steps),
                "model_eur": round(total_cost(steps), 2),
                "real_eur": round(real, 2),
                "within": real <= envelope,
                "seconds": round(seconds, 2),
            }
        # The baseline on real plans: the longest priority-order run whose real plan fits.
        started = time.perf_counter()
        priority = {m: mast_priority(net.graph.nodes[net.mast_nodes[m]]) for m in masts}
        prefix, _ = priority_prefix_real(
            net, params, masts, envelope, priority=priority, transport=transport
        )
        row["real"] = {
            "priority": sum(priority[m] for m in prefix),
            "masts": len(prefix),
            "seconds": round(time.perf_counter() - started, 2),
        }
        best = max(row["stop"]["priority"], row["skip"]["priority"])
        row["priority_ratio"] = round(ours.priority_connected / best, 3) if best else None
        real_best = row["real"]["priority"]
        row["priority_ratio_real"] = (
            round(ours.priority_connected / real_best, 3) if real_best else None
        )
        rows.append(row)
        console.print(
            f"{path.name} {label}: vigie {ours.priority_connected} "
            f"stop {row['stop']['priority']} skip {row['skip']['priority']} "
            f"real {row['real']['priority']} "
            f"({ours_seconds:.1f} s)"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layers", type=Path, nargs="+")
    parser.add_argument("--shares", type=float, nargs="*", default=[0.25, 0.5, 0.75])
    parser.add_argument("--envelope", type=float, nargs="*", default=[2_500_000.0])
    parser.add_argument("--priorities", choices=["default", "drawn"], default="default")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    envelopes: list[tuple[str, float | None]] = [(f"{100 * s:g}%", None) for s in args.shares]
    envelopes += [(f"{e:,.0f} EUR", e) for e in args.envelope]
    rows = []
    for path in args.layers:
        rows.extend(bench_file(path, envelopes, args.priorities == "drawn"))
    table = Table(title=f"Budget-constrained plans (priorities: {args.priorities})")
    for column in (
        "layers",
        "envelope",
        "priority total",
        "vigie",
        "stop",
        "skip",
        "real",
        "vigie / best baseline",
        "vigie / real",
        "vigie spent / envelope",
        "baselines real within",
        "vigie s",
        "stop s",
    ):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r["layers"],
            r["envelope"],
            str(r["priority_total"]),
            str(r["vigie"]["priority"]),
            str(r["stop"]["priority"]),
            str(r["skip"]["priority"]),
            str(r["real"]["priority"]),
            f"{r['priority_ratio']:.2f}x" if r["priority_ratio"] else "-",
            f"{r['priority_ratio_real']:.2f}x" if r["priority_ratio_real"] else "-",
            f"{r['vigie']['spent_eur'] / r['envelope_eur']:.3f}",
            f"{'yes' if r['stop']['within'] else 'no'}/{'yes' if r['skip']['within'] else 'no'}",
            f"{r['vigie']['seconds']:.1f}",
            f"{r['stop']['seconds']:.1f}",
        )
    console.print(table)
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": platform.platform(),
                    "priorities": args.priorities,
                    "rows": rows,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
