"""Read SteinLib instances (STP format 1.0), the reference benchmark for Steiner tree heuristics.

Only what the benchmark and tests need: the ``Graph`` section's edges and the ``Terminals``
section. The copies in ``shared/data/steinlib`` carry their known optimum on a non-standard
``Optimal N`` line inside ``SECTION Graph``; it is read when present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from planning.errors import PlanningError

__all__ = ["SteinInstance", "SteinLibError", "read_stp"]

_MAGIC = "33D32945"


class SteinLibError(PlanningError):
    """An STP file cannot be read: fix the file and line named in the message."""


@dataclass
class SteinInstance:
    """One SteinLib instance: a weighted graph, its terminals and, when known, the optimum."""

    name: str
    graph: nx.Graph
    terminals: list[int] = field(default_factory=list)
    optimum: float | None = None


def read_stp(path: str | Path) -> SteinInstance:
    """Read an STP file; the name is the ``Name`` of its comment section, else the file stem."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or not lines[0].strip().upper().startswith(_MAGIC):
        _fail(path, 1, f"not an STP file: the first line must start with {_MAGIC}")
    state = _State(name=path.stem)
    section = None
    for number, raw in enumerate(lines[1:], start=2):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        key = words[0].upper()
        if key == "EOF":
            break
        if key == "SECTION":
            if len(words) < 2:
                _fail(path, number, "SECTION without a name")
            section = words[1].upper()
        elif key == "END":
            section = None
        else:
            try:
                state.read(section, key, words, raw)
            except (IndexError, ValueError) as err:
                _fail(path, number, f"cannot read {raw.strip()!r}: {err}")
    graph, terminals, declared = state.graph, state.terminals, state.declared
    _check_counts(path, graph, terminals, declared)
    return SteinInstance(name=state.name, graph=graph, terminals=terminals, optimum=state.optimum)


@dataclass
class _State:
    """What has been read so far."""

    name: str
    graph: nx.Graph = field(default_factory=nx.Graph)
    terminals: list[int] = field(default_factory=list)
    optimum: float | None = None
    declared: dict[str, int] = field(default_factory=dict)

    def read(self, section: str | None, key: str, words: list[str], raw: str) -> None:
        """Take one line of a section; lines this reader does not need are skipped."""
        if section == "COMMENT" and key == "NAME":
            self.name = raw.split(None, 1)[1].strip().strip('"')
        elif section == "GRAPH" and key in {"E", "A"}:
            u, v, w = int(words[1]), int(words[2]), float(words[3])
            self.graph.add_edge(u, v, weight=int(w) if w.is_integer() else w)
        elif section == "GRAPH" and key == "NODES":
            self.declared["nodes"] = int(words[1])
            self.graph.add_nodes_from(range(1, self.declared["nodes"] + 1))
        elif section == "GRAPH" and key in {"EDGES", "ARCS"}:
            self.declared["edges"] = int(words[1])
        elif section == "GRAPH" and key == "OPTIMAL":
            self.optimum = float(words[1])
        elif section == "TERMINALS" and key == "T":
            self.terminals.append(int(words[1]))
        elif section == "TERMINALS" and key == "TERMINALS":
            self.declared["terminals"] = int(words[1])


def _check_counts(
    path: Path, graph: nx.Graph, terminals: list[int], declared: dict[str, int]
) -> None:
    """Compare what was read with the counts the file declares, so truncated files are caught."""
    found = {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "terminals": len(terminals),
    }
    wrong = [
        f"{k}: declared {declared[k]}, found {found[k]}"
        for k in declared
        if declared[k] != found[k]
    ]
    if wrong:
        msg = f"{path}: counts do not match ({'; '.join(wrong)})"
        raise SteinLibError(msg)


def _fail(path: Path, line: int, message: str) -> None:
    """Raise a SteinLibError naming the file and line."""
    msg = f"{path}:{line}: {message}"
    raise SteinLibError(msg)
