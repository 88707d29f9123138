"""Reasons and comments: printable text only, the refused character named."""

from __future__ import annotations

import re

import pytest

from vigie.plain_text import check_line, check_lines, unprintable


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("abc\u202edef", "U+202E"),
        ("\u2066x", "U+2066"),
        ("a\u200bb", "U+200B"),
        ("a\x00", "U+0000"),
        ("a\tb", "U+0009"),
        ("a\nb", "U+000A"),
        ("a\u2029", "U+2029"),
        ("\ue000", "U+E000"),
    ],
)
def test_hidden_characters_are_named(text: str, found: str) -> None:
    assert unprintable(text) == found
    with pytest.raises(ValueError, match=re.escape(found)):
        check_line(text)


@pytest.mark.parametrize("text", ["réquisition OPJ n° 118 — Évreux", "équipe « B »", "مرحبا", ""])
def test_printable_text_of_any_script_passes(text: str) -> None:
    assert check_line(text) == text


def test_comments_keep_their_lines_only() -> None:
    assert check_lines("un\r\ndeux\ntrois") == "un\ndeux\ntrois"
    with pytest.raises(ValueError, match=re.escape("U+000D")):
        check_lines("un\rdeux")
    with pytest.raises(ValueError, match=re.escape("U+202E")):
        check_lines("un\n\u202edeux")
