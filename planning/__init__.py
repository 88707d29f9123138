"""GIS planner: layers -> graph -> routes -> quantities -> costs -> exports.

A library with no web and no database: GeoDataFrames and graphs in, new ones out.

The layer schema (``LAYERS``, ``LAYER_NAMES``, ``WORK_CRS``) is loaded on first use: it brings
pandas, and every ``vigie`` command that only formats French numbers (``planning.french``)
would otherwise pay its import (about 0.6 s per process).
"""

from __future__ import annotations

import importlib
from typing import Any

from planning.errors import LayerError, PlanningError, SampleError

__all__ = ["LAYERS", "LAYER_NAMES", "WORK_CRS", "LayerError", "PlanningError", "SampleError"]


def __getattr__(name: str) -> Any:
    if name in ("LAYERS", "LAYER_NAMES", "WORK_CRS"):
        return getattr(importlib.import_module("planning.schema"), name)
    raise AttributeError(f"module 'planning' has no attribute {name!r}")
