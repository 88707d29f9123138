"""Checks of one layer on its own: required fields, their types and values, ids, geometries.

Every check is a vectorised mask over the layer; Python only loops over the features found wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pandas.api.types import infer_dtype

from planning._problem import Problem, Severity, layer_error, layer_warning
from planning.schema import LAYERS, FieldSpec, FieldType, LayerSpec

_REFACTOR_HINT = "change its type (QGIS: Processing > Vector table > Refactor fields)"

# shapely type ids
_POINT, _LINESTRING, _LINEARRING, _POLYGON = 0, 1, 2, 3
_MULTIPOINT, _MULTILINESTRING, _MULTIPOLYGON = 4, 5, 6
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
_SINGLE_AND_MULTI = {
    "Point": (_POINT, _MULTIPOINT),
    "LineString": (_LINESTRING, _MULTILINESTRING),
    "Polygon": (_POLYGON, _MULTIPOLYGON),
}
_SPLIT_HINT = (
    "split it into single parts (QGIS: Vector > Geometry Tools > Multipart to Singleparts)"
)


@dataclass
class LayerCheck:
    """What the checks of one layer found, and which fields later checks cannot trust."""

    problems: list[Problem] = field(default_factory=list)
    unusable_fields: set[str] = field(default_factory=set)


class FeatureLabels:
    """The ``FEATURE_ID`` of each row: its id value, or ``#N`` when it has none."""

    def __init__(self, gdf: gpd.GeoDataFrame, spec: LayerSpec) -> None:
        self._values = gdf[spec.id_field] if spec.id_field in gdf.columns else None

    def __call__(self, row: int) -> str:
        if self._values is not None:
            value = self._values.iat[row]
            if not _is_blank(value):
                return format_value(value)
        return f"#{row + 1}"


def format_value(value: object) -> str:
    """A field value as a user wrote it: ``12`` rather than ``12.0`` for integers read as floats."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def as_text(column: pd.Series) -> pd.Series:
    """Non-null values as text, as `format_value` writes them (so ``27229.0`` reads ``27229``)."""
    if infer_dtype(column, skipna=True) == "string":
        return column.astype("string").reset_index(drop=True)
    return pd.Series([format_value(v) for v in column.to_numpy(dtype=object)], dtype="string")


def _is_blank(value: object) -> bool:
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def blank_mask(column: pd.Series) -> np.ndarray:
    """Null values, and text that is only whitespace."""
    mask = column.isna().to_numpy(dtype=bool, copy=True)
    if infer_dtype(column, skipna=True) == "string":
        text = np.asarray(column.to_numpy(dtype=object)[~mask], dtype=str)  # vectorised in C
        mask[~mask] = (np.char.str_len(text) == 0) | np.char.isspace(text)
    return mask


def storage_kind(column: pd.Series) -> str:
    """How a field is stored: text, integer, decimal, boolean, empty (all null) or another kind."""
    kind = infer_dtype(column, skipna=True)
    if kind in ("floating", "mixed-integer-float"):
        # integer fields with nulls come back as floats: judge the values, not the dtype
        values = pd.to_numeric(column, errors="coerce").dropna().to_numpy(dtype=float)
        if len(values) == 0:
            return "empty"
        whole = np.isfinite(values).all() and (values == np.round(values)).all()
        return "integer" if whole else "decimal"
    return {"string": "text"}.get(kind, kind)  # integer, boolean, empty, mixed, bytes...


_ACCEPTED = {
    FieldType.TEXT: {"text", "empty"},
    FieldType.INTEGER: {"integer", "empty"},
    FieldType.BOOLEAN: {"boolean", "integer", "empty"},  # Shapefiles have no booleans: 0/1
    FieldType.ID: {"text", "integer", "empty"},
}
_EXPECTED = {
    FieldType.TEXT: "text",
    FieldType.INTEGER: "a whole number",
    FieldType.BOOLEAN: "true/false (or 0/1)",
    FieldType.ID: "text or a whole number",
}


def check_layer(name: str, gdf: gpd.GeoDataFrame) -> LayerCheck:
    """Check one layer against its schema in `planning.schema.LAYERS`."""
    spec = LAYERS[name]
    labels = FeatureLabels(gdf, spec)
    check = LayerCheck()
    if len(gdf) == 0:
        check.problems.append(layer_warning(name, "empty-layer", "the layer has no features"))
    for fspec in spec.fields:
        if fspec.name not in gdf.columns:
            if not fspec.required:
                continue
            check.problems.append(layer_error(name, "missing-field", _missing_field(fspec, gdf)))
            check.unusable_fields.add(fspec.name)
            continue
        column = gdf[fspec.name]
        kind = storage_kind(column)
        if kind not in _ACCEPTED[fspec.type]:
            check.problems.append(
                layer_error(name, "wrong-field-type", _wrong_type(fspec, kind, column))
            )
            check.unusable_fields.add(fspec.name)
            continue
        check.problems.extend(_check_values(name, fspec, column, labels))
    if spec.id_field in gdf.columns and spec.id_field not in check.unusable_fields:
        check.problems.extend(_check_duplicates(name, gdf[spec.id_field], labels))
    check.problems.extend(check_geometries(name, spec, gdf.geometry.array, labels))
    return check


def _missing_field(fspec: FieldSpec, gdf: gpd.GeoDataFrame) -> str:
    text = f"missing required field '{fspec.name}' ({_EXPECTED[fspec.type]}"
    text += f": {fspec.description})" if fspec.description else ")"
    lookalike = [c for c in gdf.columns if str(c).lower() == fspec.name.lower()]
    if lookalike:
        return f"{text}; found '{lookalike[0]}': rename it '{fspec.name}'"
    return f"{text}: add it to the layer"


def _wrong_type(fspec: FieldSpec, kind: str, column: pd.Series) -> str:
    shown = {"text": "text", "integer": "an integer", "decimal": "a decimal number"}.get(kind, kind)
    text = f"field '{fspec.name}' is stored as {shown}, expected {_EXPECTED[fspec.type]}"
    if fspec.type is FieldType.TEXT and kind in ("integer", "decimal"):
        if fspec.pattern:
            return f"{text}: a number loses the leading zeros of codes; store it as text"
        return f"{text}: store it as text"
    if kind == "decimal":
        sample = pd.to_numeric(column, errors="coerce").dropna()
        sample = sample[sample != np.round(sample)]
        return f"{text} (found {sample.iloc[0]:g}): {_REFACTOR_HINT}"
    return f"{text}: {_REFACTOR_HINT}"


def _check_values(
    name: str, fspec: FieldSpec, column: pd.Series, labels: Callable[[int], str]
) -> list[Problem]:
    problems: list[Problem] = []
    blank = blank_mask(column)
    what = "id" if fspec.type is FieldType.ID else f"field '{fspec.name}'"
    for row in np.flatnonzero(blank) if fspec.required else ():  # optional: blank is unknown
        problems.append(_feature_error(name, labels, row, "null-value", f"{what} is empty"))
    present = ~blank
    values = column.to_numpy(dtype=object)
    if fspec.type is FieldType.BOOLEAN:
        numeric = pd.to_numeric(column.where(present), errors="coerce")
        bad = present & ~numeric.isin((0, 1)).to_numpy()
        for row in np.flatnonzero(bad):
            message = f"'{fspec.name}' is {format_value(values[row])}, expected true/false (1 or 0)"
            problems.append(_feature_error(name, labels, row, "bad-choice", message))
        return problems
    if fspec.choices:
        bad = present & ~column.isin(fspec.choices).to_numpy()
        for row in np.flatnonzero(bad):
            problems.append(
                _feature_error(name, labels, row, "bad-choice", _bad_choice(fspec, values[row]))
            )
    if fspec.minimum is not None or fspec.maximum is not None:
        numeric = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        low = present & (numeric < fspec.minimum) if fspec.minimum is not None else None
        high = present & (numeric > fspec.maximum) if fspec.maximum is not None else None
        for mask, word, bound in (
            (low, "below the minimum", fspec.minimum),
            (high, "above the maximum", fspec.maximum),
        ):
            if mask is None:
                continue
            for row in np.flatnonzero(mask):
                message = f"'{fspec.name}' is {format_value(values[row])}, {word} {bound}"
                problems.append(_feature_error(name, labels, row, "out-of-range", message))
    if fspec.pattern:
        text = as_text(column[present])
        matches = text.str.fullmatch(fspec.pattern).fillna(False).to_numpy(dtype=bool)
        bad_rows = np.flatnonzero(present)[~matches]
        about = f" ({fspec.description})" if fspec.description else ""
        for row in bad_rows:
            message = (
                f"'{fspec.name}' is '{format_value(values[row])}', which does not match "
                f"{fspec.pattern}{about}"
            )
            problems.append(_feature_error(name, labels, row, "bad-pattern", message))
    return problems


def _bad_choice(fspec: FieldSpec, value: object) -> str:
    text = f"'{fspec.name}' is '{format_value(value)}', not one of: {', '.join(fspec.choices)}"
    folded = {c.lower(): c for c in fspec.choices}
    suggestion = folded.get(str(value).strip().lower())
    return f"{text} (did you mean '{suggestion}'?)" if suggestion else text


def _check_duplicates(name: str, column: pd.Series, labels: Callable[[int], str]) -> list[Problem]:
    present = ~blank_mask(column)
    keys = as_text(column[present])
    if not keys.duplicated().any():
        return []
    rows = np.flatnonzero(present)
    first = pd.Series(rows).groupby(keys.to_numpy()).transform("min").to_numpy()
    problems = []
    for row, first_row in zip(rows[first != rows], first[first != rows], strict=True):
        message = (
            f"duplicate id (feature #{row + 1}): feature #{first_row + 1} already has it; "
            "give each feature its own"
        )
        problems.append(_feature_error(name, labels, row, "duplicate-id", message))
    return problems


def check_geometries(
    name: str, spec: LayerSpec, geoms: np.ndarray, labels: Callable[[int], str]
) -> list[Problem]:
    """Null, empty, wrong-type, multi-part, zero-length and invalid geometries, per feature."""
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    type_id = shapely.get_type_id(geoms)
    parts = shapely.get_num_geometries(geoms)
    single, multi = _SINGLE_AND_MULTI[spec.geometry]
    present = ~missing & ~empty
    right_family = (type_id == single) | (type_id == multi)
    multi_ok = spec.geometry == "Polygon"
    multipart = present & (type_id == multi) & (parts > 1) & (not multi_ok)
    wrong = present & ~right_family
    usable = present & right_family & ~multipart
    zero_length = np.zeros(len(geoms), dtype=bool)
    if spec.geometry == "LineString":
        zero_length[usable] = shapely.length(geoms[usable]) == 0
    invalid = np.zeros(len(geoms), dtype=bool)
    candidates = usable & ~zero_length
    invalid[candidates] = ~shapely.is_valid(geoms[candidates])

    found: list[tuple[int, str, str]] = []
    found += [(row, "null-geometry", "no geometry") for row in np.flatnonzero(missing)]
    found += [(row, "empty-geometry", "empty geometry") for row in np.flatnonzero(empty)]
    for row in np.flatnonzero(wrong):
        got = _TYPE_NAMES.get(int(type_id[row]), "unknown")
        found.append((row, "wrong-geometry", f"geometry is a {got}, expected a {spec.geometry}"))
    for row in np.flatnonzero(multipart):
        message = (
            f"multi-part geometry ({parts[row]} parts), expected one {spec.geometry}: {_SPLIT_HINT}"
        )
        found.append((row, "multi-part", message))
    for row in np.flatnonzero(zero_length):
        found.append((row, "zero-length", "zero-length line: delete it or draw its real course"))
    rows = np.flatnonzero(invalid)
    for row, reason in zip(rows, shapely.is_valid_reason(geoms[rows]), strict=True):
        message = f"invalid geometry ({reason}): fix it (QGIS: Processing > Fix geometries)"
        found.append((row, "invalid-geometry", message))
    found.sort(key=lambda item: item[0])
    return [_feature_error(name, labels, row, code, message) for row, code, message in found]


def usable_geometries(spec: LayerSpec, geoms: np.ndarray) -> np.ndarray:
    """Mask of the geometries later checks can use: present, of the right family."""
    geoms = np.asarray(geoms, dtype=object)
    type_id = shapely.get_type_id(geoms)
    single, multi = _SINGLE_AND_MULTI[spec.geometry]
    return ((type_id == single) | (type_id == multi)) & ~shapely.is_empty(geoms)


def _feature_error(
    name: str, labels: Callable[[int], str], row: int, code: str, message: str
) -> Problem:
    return Problem(name, labels(int(row)), Severity.ERROR, code, message, row=int(row))
