"""Reading the planning layers from disk: a GeoPackage, a folder of layer files, or a zip of either.

The reader is the boundary with the file system and GDAL: it never lets a GDAL error, a zip bomb
or a path escaping the given folder through, and it leaves the layers exactly as read (original
CRS, fields and geometries). Judging their content is `planning.validate`'s job.

Accepted LAYERS arguments:

- ``eure.gpkg``: a GeoPackage holding the layers by name;
- a folder holding one file per layer, named after it: ``roads.geojson`` (or ``.json``),
  ``roads.shp`` with its sidecars, or ``roads.gpkg``; a folder holding no such file but a single
  GeoPackage is read as that GeoPackage;
- ``layers.zip``: a zip of such a folder or of a GeoPackage, extracted here (never through GDAL's
  /vsizip) into a temporary directory under hard limits.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
import pyogrio.errors

from planning._problem import LAYER_LEVEL, Problem, Severity, layer_error, layer_warning
from planning.errors import LayerError
from planning.projection import MISSING_CRS_REASON
from planning.schema import LAYER_NAMES, LAYERS

__all__ = ["DEFAULT_MAX_BYTES", "LayerSet", "Problem", "Severity", "read_layers"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024**3
"""Default cap on the bytes a zip may expand to."""

MAX_COMPRESSION_RATIO = 200
"""A member expanding more than this is a zip bomb: GIS files deflate 5-50x, zeros ~1000x."""

_RATIO_FLOOR_BYTES = 1024**2
"""Below this many output bytes a member may have any ratio (tiny, repetitive sidecar files)."""

_MAX_ZIP_MEMBERS = 10_000
_CHUNK = 1024**2

LAYER_EXTENSIONS = (".gpkg", ".geojson", ".json", ".shp")
"""Files a folder layer may come as, in order of preference."""

_SHAPEFILE_NEEDS = (".shx", ".dbf")
_DBF_NAME_LIMIT = 10
_IGNORED_ENTRIES = frozenset({"__macosx", ".ds_store", "thumbs.db"})

_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.CRSError,
    OSError,
    ValueError,  # also UnicodeDecodeError on a badly encoded file
)
"""What GDAL (through pyogrio) and the files raise on bad input; translated at this boundary."""


@dataclass
class LayerSet:
    """The layers found at ``source``, as read.

    ``layers`` maps a layer name to its GeoDataFrame in its original CRS; ``files`` maps it to a
    description of where it came from (for messages); ``problems`` lists what prevented reading
    (missing layer, unreadable file, missing CRS, file outside the folder...).
    """

    source: Path
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_layers(
    path: Path | str,
    *,
    names: Iterable[str] = LAYER_NAMES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> LayerSet:
    """Read the planning layers at ``path`` (GeoPackage, folder or zip), reporting what is missing.

    Parameters
    ----------
    path
        A GeoPackage, a folder of layer files named after the layers, or a ``.zip`` of either.
    names
        The layers to read.
    max_bytes
        The most bytes a zip may expand to; beyond it the zip is refused as a zip bomb.

    Returns
    -------
    LayerSet
        The layers found, untouched, and a problem for each layer that could not be read.

    Raises
    ------
    LayerError
        ``path`` cannot be used at all: it does not exist, is not a folder, a GeoPackage or a zip,
        cannot be read, or is an unsafe zip (zip bomb, member escaping the folder, symlink).
    """
    path = Path(path)
    names = tuple(names)
    kind = _classify(path)
    if kind == "zip":
        with tempfile.TemporaryDirectory(prefix="vigie-layers-") as tmp:
            root = _extract_zip(path, Path(tmp), max_bytes=max_bytes)
            layerset = _read_container(root, names, label=path.name, tmp=Path(tmp))
        layerset.source = path
        return layerset
    if kind == "gpkg":
        return _read_geopackage(path, names, label=path.name, source=path)
    return _read_container(path, names, label=path.name, tmp=None)


def _classify(path: Path) -> str:
    usage = "give a GeoPackage (.gpkg), a folder of layer files named after the layers, or a .zip"
    try:
        st = path.stat()
    except FileNotFoundError as err:
        raise LayerError(f"{path}: no such file or folder: {usage}") from err
    except OSError as err:
        raise LayerError(f"{path}: cannot access it ({err.strerror}): {usage}") from err
    if stat.S_ISDIR(st.st_mode):
        if not os.access(path, os.R_OK | os.X_OK):
            raise LayerError(f"{path}: permission denied: make the folder readable")
        return "folder"
    if not stat.S_ISREG(st.st_mode):
        raise LayerError(f"{path}: not a regular file or folder: {usage}")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json", ".shp"):
        raise LayerError(
            f"{path}: a single layer file: give the folder holding one file per layer "
            f"({', '.join(LAYER_NAMES)}), or a GeoPackage"
        )
    if suffix not in (".gpkg", ".zip"):
        raise LayerError(f"{path}: unsupported file type '{path.suffix}': {usage}")
    if not os.access(path, os.R_OK):
        raise LayerError(f"{path}: permission denied: make the file readable")
    return suffix[1:]


# --- zip ---------------------------------------------------------------------------------------


def _extract_zip(path: Path, dest: Path, *, max_bytes: int) -> Path:
    """Extract ``path`` into ``dest`` under hard limits, counting the bytes actually written."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise LayerError(f"{path}: not a readable zip file ({err}): zip the folder again") from err
    total = 0
    with archive:
        members = archive.infolist()
        if len(members) > _MAX_ZIP_MEMBERS:
            raise LayerError(
                f"{path}: {len(members)} members, more than {_MAX_ZIP_MEMBERS}: refused"
            )
        for info in members:
            parts = _safe_member_parts(path, info)
            if not parts or parts[0].lower() in _IGNORED_ENTRIES:
                continue
            target = dest.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            total = _extract_member(path, archive, info, target, total=total, max_bytes=max_bytes)
    return dest


def _safe_member_parts(path: Path, info: zipfile.ZipInfo) -> tuple[str, ...]:
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        raise LayerError(
            f"{path}: member '{name}' is a symbolic link: refused; zip the files themselves"
        )
    posix = name.replace("\\", "/")
    if "\0" in posix or posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        raise LayerError(f"{path}: member '{name}' has an absolute path: refused")
    parts = tuple(part for part in PurePosixPath(posix).parts if part not in ("", "."))
    if ".." in parts:
        raise LayerError(f"{path}: member '{name}' points outside the archive ('..'): refused")
    return parts


def _extract_member(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    *,
    total: int,
    max_bytes: int,
) -> int:
    """Stream one member to ``target``; return the running total of bytes written."""
    written = 0
    compressed = max(info.compress_size, 1)
    try:
        with archive.open(info) as src, target.open("xb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise LayerError(
                        f"{path}: expands to more than {max_bytes:,} bytes (zip bomb?): refused; "
                        "give the folder or GeoPackage itself"
                    )
                if written > _RATIO_FLOOR_BYTES and written > MAX_COMPRESSION_RATIO * compressed:
                    raise LayerError(
                        f"{path}: member '{info.filename}' expands more than "
                        f"{MAX_COMPRESSION_RATIO} times its compressed size (zip bomb?): refused"
                    )
                out.write(chunk)
    except FileExistsError as err:
        raise LayerError(f"{path}: member '{info.filename}' appears twice: refused") from err
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as err:
        # RuntimeError: encrypted member; NotImplementedError: unsupported compression method
        raise LayerError(f"{path}: cannot extract '{info.filename}' ({err}): zip it again") from err
    return total


# --- folders -----------------------------------------------------------------------------------


def _read_container(
    root: Path, names: tuple[str, ...], *, label: str, tmp: Path | None
) -> LayerSet:
    """Read a folder (or an extracted zip): per-layer files, or its single GeoPackage."""
    root = _descend_single_folder(root) if tmp is not None else root
    entries = _entries(root, label=label)
    has_layer_file = any(f"{n.lower()}{ext}" in entries for n in names for ext in LAYER_EXTENSIONS)
    gpkgs = [e for e in entries.values() if e.suffix.lower() == ".gpkg"]
    prefix = _display_prefix(root, label=label, tmp=tmp)
    if not has_layer_file and len(gpkgs) == 1:
        gpkg = gpkgs[0]
        resolved = _outside(gpkg, root)
        if resolved is not None:
            label = prefix + gpkg.name
            return LayerSet(root, problems=[_refused(label, label, resolved)])
        return _read_geopackage(gpkg, names, label=prefix + gpkg.name, source=root)
    layerset = LayerSet(root)
    for name in names:
        _read_folder_layer(layerset, root, entries, name, prefix=prefix)
    return layerset


def _descend_single_folder(root: Path) -> Path:
    """``layers.zip`` often holds one folder ``layers/``: look inside it."""
    while True:
        entries = [e for e in root.iterdir() if e.name.lower() not in _IGNORED_ENTRIES]
        if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
            root = entries[0]
            continue
        return root


def _display_prefix(root: Path, *, label: str, tmp: Path | None) -> str:
    if tmp is None:
        return ""
    relative = root.relative_to(tmp).as_posix()
    return f"{label}/" if relative == "." else f"{label}/{relative}/"


def _entries(root: Path, *, label: str) -> dict[str, Path]:
    try:
        return {entry.name.lower(): entry for entry in root.iterdir()}
    except OSError as err:
        raise LayerError(f"{label}: cannot list the folder ({err.strerror})") from err


def _outside(file: Path, root: Path) -> Path | None:
    """The resolved target when ``file`` (a symlink, or in a linked folder) leaves ``root``."""
    resolved = file.resolve()
    return None if resolved.is_relative_to(root.resolve()) else resolved


def _refused(layer: str, label: str, resolved: Path) -> Problem:
    return layer_error(
        layer,
        "outside-folder",
        f"{label}: path outside the folder (a link to {resolved}): refused; "
        "copy the file into the folder",
    )


def _read_folder_layer(
    layerset: LayerSet, root: Path, entries: dict[str, Path], name: str, *, prefix: str
) -> None:
    candidates = [c for c in (entries.get(f"{name.lower()}{ext}") for ext in LAYER_EXTENSIONS) if c]
    if not candidates and not LAYERS[name].required:
        return
    if not candidates:
        expected = ", ".join(f"{name}{ext}" for ext in LAYER_EXTENSIONS)
        layerset.problems.append(
            layer_error(name, "missing-layer", f"missing layer: no {expected} in {prefix or root}")
        )
        return
    file = candidates[0]
    label = prefix + file.name
    if len(candidates) > 1:
        others = ", ".join(c.name for c in candidates[1:])
        layerset.problems.append(
            layer_warning(
                name,
                "ambiguous-layer",
                f"several files for the layer: using {label}, ignoring {others}",
            )
        )
    siblings = [e for key, e in entries.items() if key.startswith(f"{name.lower()}.")]
    for entry in (file, *siblings):
        resolved = _outside(entry, root)
        if resolved is not None:
            layerset.problems.append(_refused(name, prefix + entry.name, resolved))
            return
    if file.suffix.lower() == ".shp":
        lacking = [ext for ext in _SHAPEFILE_NEEDS if f"{name.lower()}{ext}" not in entries]
        if lacking:
            layerset.problems.append(
                layer_error(
                    name,
                    "unreadable-file",
                    f"{label}: no {', '.join(name + ext for ext in lacking)} beside it: copy all "
                    "the Shapefile's files (.shp, .shx, .dbf, .prj, .cpg)",
                )
            )
            return
    _read_one(layerset, name, file, label=label, gpkg_layer=None)


# --- reading one layer -------------------------------------------------------------------------


def _read_geopackage(gpkg: Path, names: tuple[str, ...], *, label: str, source: Path) -> LayerSet:
    layerset = LayerSet(source)
    try:
        listed = [str(row[0]) for row in _gdal(pyogrio.list_layers, gpkg)]
    except _GDAL_ERRORS as err:
        # the whole file is unusable: one problem, named after the file rather than a layer
        layerset.problems.append(layer_error(label, "unreadable-file", _unreadable("", gpkg, err)))
        return layerset
    by_lower = {n.lower(): n for n in listed}
    for name in names:
        actual = name if name in listed else by_lower.get(name.lower())
        if actual is None and not LAYERS[name].required:
            continue
        if actual is None:
            has = ", ".join(listed) or "no layer at all"
            layerset.problems.append(
                layer_error(
                    name,
                    "missing-layer",
                    f"missing layer: {label} has no layer '{name}' (it has: {has})",
                )
            )
            continue
        _read_one(layerset, name, gpkg, label=f"{label} (layer {actual})", gpkg_layer=actual)
    return layerset


def _read_one(
    layerset: LayerSet, name: str, file: Path, *, label: str, gpkg_layer: str | None
) -> None:
    """Read layer ``name`` from ``file`` into ``layerset``, or record why it cannot be read."""
    try:
        if file.stat().st_size == 0:
            layerset.problems.append(
                layer_error(name, "unreadable-file", f"{label}: empty file: export the layer again")
            )
            return
        if gpkg_layer is None and file.suffix.lower() == ".gpkg":
            gpkg_layer = _single_layer(file, name, label=label)
            if isinstance(gpkg_layer, Problem):
                layerset.problems.append(gpkg_layer)
                return
        frame = _gdal(pyogrio.read_dataframe, file, layer=gpkg_layer)
    except _GDAL_ERRORS as err:
        layerset.problems.append(
            layer_error(name, "unreadable-file", _unreadable(label, file, err))
        )
        return
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        layerset.problems.append(
            layer_error(name, "no-geometry", f"{label}: the layer has no geometry column")
        )
        return
    if file.suffix.lower() == ".shp":
        frame = _restore_dbf_names(frame, name)
    layerset.layers[name] = frame
    layerset.files[name] = label
    if frame.crs is None:
        hint = f" ({file.stem}.prj is missing)" if file.suffix.lower() == ".shp" else ""
        layerset.problems.append(
            Problem(name, LAYER_LEVEL, Severity.ERROR, "missing-crs", MISSING_CRS_REASON + hint)
        )


def _single_layer(file: Path, name: str, *, label: str) -> str | Problem:
    """The layer to read in a per-layer GeoPackage: the one named after it, else its only one."""
    listed = [str(row[0]) for row in _gdal(pyogrio.list_layers, file)]
    by_lower = {n.lower(): n for n in listed}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    if len(listed) == 1:
        return listed[0]
    return layer_error(
        name,
        "missing-layer",
        f"missing layer: {label} holds {len(listed)} layers ({', '.join(listed)}) "
        f"and none is named '{name}'",
    )


def _restore_dbf_names(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Give back the schema names DBF cut to 10 characters (``free_fibre`` -> ``free_fibres``)."""
    spec = LAYERS.get(name)
    if spec is None:
        return frame
    renames = {
        f.name[:_DBF_NAME_LIMIT]: f.name
        for f in spec.fields
        if len(f.name) > _DBF_NAME_LIMIT
        and f.name[:_DBF_NAME_LIMIT] in frame.columns
        and f.name not in frame.columns
    }
    return frame.rename(columns=renames) if renames else frame


def _gdal(func, *args, **kwargs):
    """Call pyogrio, turning GDAL's warnings into log lines rather than console noise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    for warning in caught:
        logger.info("%s: %s", args[0] if args else "", warning.message)
    return result


_GDAL_REASONS = (
    ("not recognized as being in a supported file format", "not a readable GIS file"),
    ("database disk image is malformed", "corrupt or truncated GeoPackage"),
    ("file is not a database", "not a GeoPackage (not an SQLite database)"),
    ("Failed to read GeoJSON data", "invalid GeoJSON (truncated or not JSON)"),
)


def _unreadable(label: str, file: Path, err: BaseException) -> str:
    """Say why ``file`` cannot be read, in words rather than in GDAL's internals."""
    text = str(err)
    reason = next((words for marker, words in _GDAL_REASONS if marker in text), None)
    if reason is None:
        # GDAL names the file by its full (maybe temporary) path: name it as the user knows it
        reason = text.replace(str(file), file.name).split("; It might help")[0].strip()
        reason = reason or type(err).__name__
    return f"{label + ': ' if label else ''}cannot read it ({reason}): export the layer again"
