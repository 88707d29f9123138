"""The STP reader on tiny files written for the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from planning.errors import PlanningError
from planning.steinlib import SteinLibError, read_stp

TINY = """33D32945 STP File, STP Format Version 1.0

SECTION Comment
Name    "Tiny"
Remark  "a triangle with a tail"
END

SECTION Graph
{optimal}Nodes 4
Edges 4
E 1 2 3
E 2 3 4
E 1 3 5
E 3 4 2.5
END

SECTION Terminals
Terminals 2
T 1
T 4
END

EOF
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.stp"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_graph_terminals_and_optimum(tmp_path: Path) -> None:
    instance = read_stp(write(tmp_path, TINY.format(optimal="Optimal 7.5 \n")))
    assert instance.name == "Tiny"
    assert instance.optimum == 7.5
    assert instance.terminals == [1, 4]
    assert sorted(instance.graph.nodes) == [1, 2, 3, 4]
    assert instance.graph.edges[1, 2]["weight"] == 3
    assert isinstance(instance.graph.edges[1, 2]["weight"], int)
    assert instance.graph.edges[3, 4]["weight"] == 2.5


def test_optimum_is_optional(tmp_path: Path) -> None:
    instance = read_stp(write(tmp_path, TINY.format(optimal="")))
    assert instance.optimum is None
    assert instance.graph.number_of_edges() == 4


def test_malformed_edge_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.format(optimal="").replace("E 2 3 4", "E 2 three 4"))
    with pytest.raises(SteinLibError, match=rf"{path}:12: cannot read 'E 2 three 4'") as info:
        read_stp(path)
    assert isinstance(info.value, PlanningError)


def test_wrong_magic_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SteinLibError, match=":1: not an STP file"):
        read_stp(write(tmp_path, "hello\n"))


def test_truncated_file_is_caught_by_the_counts(tmp_path: Path) -> None:
    text = TINY.format(optimal="").replace("E 3 4 2.5\n", "")
    with pytest.raises(SteinLibError, match="edges: declared 4, found 3"):
        read_stp(write(tmp_path, text))
