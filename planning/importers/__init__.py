"""Importers: the data engineers hold (OpenStreetMap, IGN BD TOPO, GraceTHD) into planning layers.

Each importer is a function ``import_X(source, *, area=None, progress=None) -> ImportResult``:
it reads ``source``, keeps what lies in ``area`` (a shapely geometry in Lambert-93, or None for
everything), maps what it can to the layers of `planning.schema`, and says in its `ImportReport`
what it mapped, what it could not and why, per source id: an English reason, and a code per
kind of reason that summaries translate (`planning.importers.labels_fr`).
"""

from planning.importers.report import (
    ImportReport,
    ImportResult,
    Reason,
    Unmapped,
    write_layers,
)

__all__ = ["ImportReport", "ImportResult", "Reason", "Unmapped", "write_layers"]
