"""French number formats: narrow no-break space between thousands, decimal comma, units kept on."""

from __future__ import annotations

import pytest

from planning.french import NBSP, NNBSP, euros, number, percent, with_unit


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0, 0, "0"),
        (999, 0, "999"),
        (1000, 0, "1 000"),
        (472587.4, 0, "472 587"),
        (1234567.891, 2, "1 234 567,89"),
        (3.28, 2, "3,28"),
        (5.7, 2, "5,70"),
        (-1234.5, 1, "-1 234,5"),
        (-0.001, 1, "0,0"),  # rounded to zero: no minus sign
    ],
)
def test_number(value: float, digits: int, expected: str) -> None:
    assert number(value, digits) == expected.replace(" ", NNBSP)


def test_trim_drops_trailing_zeros_only() -> None:
    assert number(2.5, 2, trim=True) == "2,5"
    assert number(3.0, 2, trim=True) == "3"
    assert number(1200, 2, trim=True) == f"1{NNBSP}200"


def test_units_euros_and_percents_never_break_from_their_number() -> None:
    assert with_unit(3281.5, "km", 1) == f"3{NNBSP}281,5{NBSP}km"
    assert euros(472587.4, "HT") == f"472{NNBSP}587{NBSP}€{NBSP}HT"
    assert euros(1557721.14, digits=2) == f"1{NNBSP}557{NNBSP}721,14{NBSP}€"
    assert percent(13) == f"13{NBSP}%"
    assert percent(0.25, 2) == f"0,25{NBSP}%"
    assert percent(12.3456, 1) == f"12,3{NBSP}%"
