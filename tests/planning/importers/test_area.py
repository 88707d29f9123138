"""``--area``: a WGS84 box, INSEE codes of the Eure, or a polygon file, in Lambert-93."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from planning.importers.area import AreaError, parse_area


def test_bbox_in_wgs84() -> None:
    area = parse_area("1.10,49.00,1.20,49.05")
    x0, y0, x1, y1 = area.bounds
    assert 560_000 < x0 < x1 < 580_000 and 6_870_000 < y0 < y1 < 6_890_000


def test_insee_codes_of_the_eure() -> None:
    evreux = parse_area("27229")
    both = parse_area("27229, 27056")
    assert 20e6 < evreux.area < 30e6  # Évreux: 26.4 km²
    assert both.area > evreux.area and both.contains(evreux.representative_point())


def test_polygon_file(tmp_path: Path) -> None:
    path = tmp_path / "zone.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(1.1, 49.0, 1.2, 49.05)], crs=4326).to_file(path)
    from_file, from_box = parse_area(str(path)), parse_area("1.1,49.0,1.2,49.05")
    assert from_file.symmetric_difference(from_box).area < 0.001 * from_box.area


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.2,49,1.1,49.05", "each minimum below its maximum"),
        ("27999", "27999 not in communes-27-eure.geojson"),
        ("nowhere.gpkg", "neither a box"),
        ("", "empty"),
    ],
)
def test_errors_say_what_to_fix(value: str, message: str) -> None:
    with pytest.raises(AreaError, match=message):
        parse_area(value)


def test_file_without_polygon(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(1.1, 49.0)], crs=4326).to_file(path)
    with pytest.raises(AreaError, match="holds no polygon"):
        parse_area(str(path))
