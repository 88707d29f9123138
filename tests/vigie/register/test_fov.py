"""A camera's field of view as a sector: what it holds and what it does not."""

from __future__ import annotations

import pytest

from vigie.register.authorisations import add_months, add_years, default_end
from vigie.register.fov import GEOD, FieldOfView

CAMERA = {"latitude": 49.0, "longitude": 1.15}


def at(azimuth: float, metres: float) -> tuple[float, float]:
    """(latitude, longitude) of the point ``metres`` from the camera along ``azimuth``."""
    lon, lat, _ = GEOD.fwd(CAMERA["longitude"], CAMERA["latitude"], azimuth, metres)
    return lat, lon


def test_a_camera_pointing_east_sees_east_not_west() -> None:
    fov = FieldOfView(**CAMERA, direction=90, angle=90, range_m=100)
    assert fov.sees(*at(90, 50))
    assert not fov.sees(*at(270, 50))
    assert fov.sees(*at(130, 90))  # inside the 45° half-opening
    assert not fov.sees(*at(140, 50))  # outside it
    assert not fov.sees(*at(90, 110))  # beyond the range
    assert fov.polygon().is_valid


def test_a_dome_sees_all_around() -> None:
    fov = FieldOfView(**CAMERA, direction=0, angle=360, range_m=100)
    for azimuth in (0, 90, 180, 270):
        assert fov.sees(*at(azimuth, 50))
        assert not fov.sees(*at(azimuth, 120))


def test_a_sector_across_north_wraps() -> None:
    fov = FieldOfView(**CAMERA, direction=350, angle=40, range_m=200)
    assert fov.sees(*at(5, 100)) and fov.sees(*at(335, 100))
    assert not fov.sees(*at(30, 100))


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [("2024-02-29", 5, "2029-02-28"), ("2026-12-07", 5, "2031-12-07")],
)
def test_five_years(day: str, years: int, expected: str) -> None:
    from datetime import date

    assert add_years(date.fromisoformat(day), years).isoformat() == expected
    assert default_end(date.fromisoformat(day)).isoformat() == expected


def test_months() -> None:
    from datetime import date

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 4) == date(2027, 3, 15)
