"""A camera's field of view as a sector polygon, in WGS84.

The sector is drawn on the ellipsoid (``pyproj.Geod``): its apex is the camera, its arc the
points at ``range_m`` along azimuths measured clockwise from true north, so bearings and
distances are exact wherever the camera is (a projected grid's north differs from true north by
a degree or two in Normandy). The arc has a vertex every :data:`STEP` degrees: at 500 m the chord
strays from the arc by less than 8 cm. A 360° view is a disc around the camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Geod
from shapely.geometry import Point, Polygon

GEOD = Geod(ellps="WGS84")
STEP = 2.0
"""Degrees between two vertices of the arc."""


@dataclass(frozen=True, kw_only=True)
class FieldOfView:
    """Where a camera at ``latitude``/``longitude`` looks: ``direction`` (degrees from north,
    clockwise), ``angle`` (opening, 1 to 360) and ``range_m`` (metres)."""

    latitude: float
    longitude: float
    direction: float
    angle: float
    range_m: float

    @property
    def all_around(self) -> bool:
        return self.angle >= 360

    def polygon(self) -> Polygon:
        """The sector (a disc at 360°), longitude/latitude coordinates."""
        if self.all_around:
            azimuths = np.arange(0.0, 360.0, STEP)
        else:
            count = max(2, math.ceil(self.angle / STEP) + 1)
            start = self.direction - self.angle / 2
            azimuths = np.linspace(start, start + self.angle, count)
        lons, lats, _ = GEOD.fwd(
            np.full(azimuths.shape, self.longitude),
            np.full(azimuths.shape, self.latitude),
            azimuths,
            np.full(azimuths.shape, self.range_m),
        )
        arc = list(zip(lons.tolist(), lats.tolist(), strict=True))
        if self.all_around:
            return Polygon(arc)
        apex = (self.longitude, self.latitude)
        return Polygon([apex, *arc, apex])

    def sees(self, latitude: float, longitude: float) -> bool:
        """Whether the point lies in the sector (its edge included)."""
        return self.polygon().covers(Point(longitude, latitude))
