"""GraceTHD test data: the published model extracts, the community's demo delivery, and the Eure
sample's FttH network given owners and parents so a round trip has every field to carry."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from tests.helpers.paths import REPO, SAMPLE

DATA = REPO / "tests" / "planning" / "importers" / "data" / "gracethd"
DEMO = DATA / "demo"
MODEL_VERSIONS = ("v2.0.1", "v2.0.2-rc1")

OWNERS = ("Orange", "Eure Numérique", "SIEGE 27", None)
MANAGERS = ("Orange", "Altitude Infra", None)


def model_fields(version: str) -> dict[str, list[str]]:
    """Table -> its fields in order, as in the published template tables."""
    fields: dict[str, list[str]] = defaultdict(list)
    with (DATA / "model" / version / "fields.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            fields[row["table"]].append(row["field"])
    return dict(fields)


def model_geometry(version: str) -> dict[str, str]:
    with (DATA / "model" / version / "fields.csv").open(encoding="utf-8") as handle:
        return {r["table"]: r["geometry"] for r in csv.DictReader(handle, delimiter=";")}


def model_references(version: str) -> list[tuple[str, str, str]]:
    """(table, field, code list) for every coded field of the model."""
    with (DATA / "model" / version / "references.csv").open(encoding="utf-8") as handle:
        return [(r["table"], r["field"], r["list"]) for r in csv.DictReader(handle, delimiter=";")]


def model_codes(version: str, name: str) -> set[str]:
    with (DATA / "model" / version / "codes" / f"{name}.csv").open(encoding="utf-8") as handle:
        return {row["code"] for row in csv.DictReader(handle, delimiter=";")}


def copy_demo(target: Path) -> Path:
    """A writable copy of the demo delivery."""
    shutil.copytree(DEMO, target)
    return target


def sample_network() -> dict[str, gpd.GeoDataFrame]:
    """The Eure sample's FttH layers with owners, managers and parents (PBO -> nearest PM,
    PM -> nearest NRO), which the sample itself does not carry."""
    routes = gpd.read_file(SAMPLE, layer="ftth_routes", engine="pyogrio")
    nodes = gpd.read_file(SAMPLE, layer="ftth_nodes", engine="pyogrio")
    routes["owner"] = [OWNERS[i % len(OWNERS)] for i in range(len(routes))]
    routes["manager"] = [MANAGERS[i % len(MANAGERS)] for i in range(len(routes))]
    nodes["owner"] = [OWNERS[i % len(OWNERS)] for i in range(len(nodes))]
    nodes["manager"] = [MANAGERS[i % len(MANAGERS)] for i in range(len(nodes))]
    parents = pd.Series([None] * len(nodes), index=nodes.index, dtype=object)
    xy = np.column_stack([nodes.geometry.x, nodes.geometry.y])
    for child, upstream in (("PBO", "PM"), ("PM", "NRO")):
        up = nodes.index[nodes["kind"] == upstream]
        down = nodes.index[nodes["kind"] == child]
        _, nearest = cKDTree(xy[up]).query(xy[down])
        parents[down] = nodes.loc[up[nearest], "id"].to_numpy()
    nodes["parent"] = parents
    return {"ftth_routes": routes, "ftth_nodes": nodes}


def read_csv_table(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", sep=";", dtype=str, keep_default_na=False)


def write_csv_table(folder: Path, table: str, frame: pd.DataFrame, **kw) -> None:
    frame.to_csv(folder / f"{table}.csv", sep=kw.pop("sep", ";"), index=False, **kw)
