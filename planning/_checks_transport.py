"""Checks of what carries the pictures to the supervision centre: the ``sites`` layer, the
``parent`` links of FttH nodes, and fibres where the FttH roles say there are none.

Warnings, not errors: the planner copes (it infers parents, ends routes at the NRO without a
CSU, never joins a chamber), but the engineer should know the plan is built on a guess.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._checks_fields import FeatureLabels, blank_mask, format_value
from planning._problem import Problem, Severity, layer_warning
from planning.schema import LAYERS

UPSTREAM = {"PBO": "PM", "PM": "NRO"}
"""The kind of node a node's ``parent`` must be."""


def check_transport(
    layers: dict[str, gpd.GeoDataFrame], unusable_fields: dict[str, set[str]]
) -> list[Problem]:
    return [*_check_sites(layers, unusable_fields), *_check_nodes(layers, unusable_fields)]


def _check_sites(
    layers: dict[str, gpd.GeoDataFrame], unusable_fields: dict[str, set[str]]
) -> list[Problem]:
    sites = layers.get("sites")
    if sites is None or "kind" in unusable_fields.get("sites", set()):
        return []
    csus = sites["kind"].astype(str).eq("csu").to_numpy()
    if not csus.any():
        return [
            layer_warning(
                "sites",
                "no-csu",
                "no site of kind 'csu': routes end at the NRO and no link to the supervision "
                "centre is planned; add the CSU",
            )
        ]
    if csus.sum() > 1:
        labels = FeatureLabels(sites, LAYERS["sites"])
        rows = np.flatnonzero(csus)
        return [
            layer_warning(
                "sites",
                "several-csu",
                f"{csus.sum()} sites of kind 'csu' ({', '.join(labels(int(r)) for r in rows)}): "
                f"the plan leads every mast to the first, {labels(int(rows[0]))}",
            )
        ]
    return []


def _check_nodes(
    layers: dict[str, gpd.GeoDataFrame], unusable_fields: dict[str, set[str]]
) -> list[Problem]:
    nodes = layers.get("ftth_nodes")
    bad = unusable_fields.get("ftth_nodes", set())
    if nodes is None or {"id", "kind"} & bad:
        return []
    labels = FeatureLabels(nodes, LAYERS["ftth_nodes"])
    kinds = nodes["kind"].astype(str).to_numpy()
    problems: list[Problem] = []
    if "free_fibres" in nodes.columns and "free_fibres" not in bad:
        free = pd.to_numeric(nodes["free_fibres"], errors="coerce").fillna(0).to_numpy()
        for row in np.flatnonzero((kinds == "chamber") & (free > 0)):
            problems.append(
                _warning(
                    labels(int(row)),
                    int(row),
                    "chamber-fibres",
                    f"a chamber holds no fibre: its free_fibres ({int(free[row])}) are ignored; "
                    "the fibres are in the closure or PBO it houses (give that node instead)",
                )
            )
    if "parent" not in nodes.columns or "parent" in bad:
        return problems
    kind_of = {format_value(i): k for i, k in zip(nodes["id"], kinds, strict=True)}
    parents = nodes["parent"].to_numpy(dtype=object)
    for row in np.flatnonzero(~blank_mask(nodes["parent"])):
        ref = format_value(parents[row])
        want = UPSTREAM.get(kinds[row])
        found = kind_of.get(ref)
        if found is None:
            message = f"parent '{ref}' is not an id of ftth_nodes: the parent will be inferred"
        elif want is None:
            message = f"a {kinds[row]} has no parent in the FttH tree: parent '{ref}' is ignored"
        elif found != want:
            message = (
                f"parent '{ref}' is a {found}, not a {want}: the parent will be inferred "
                f"(a {kinds[row]}'s fibres go back to a {want})"
            )
        else:
            continue
        problems.append(_warning(labels(int(row)), int(row), "bad-parent", message))
    return problems


def _warning(feature: str, row: int, code: str, message: str) -> Problem:
    return Problem("ftth_nodes", feature, Severity.WARNING, code, message, row=row)
