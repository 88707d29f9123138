"""GIS planner: layers -> graph -> routes -> quantities -> costs -> exports.

A library with no web and no database: GeoDataFrames and graphs in, new ones out.
"""

from planning.errors import LayerError, PlanningError, SampleError
from planning.schema import LAYER_NAMES, LAYERS, WORK_CRS

__all__ = ["LAYERS", "LAYER_NAMES", "WORK_CRS", "LayerError", "PlanningError", "SampleError"]
