"""Free text people write for the record (reasons, comments): printable characters only.

A reason lands in the audit trail, the CSV export and the screens of the centre; a control
character or a bidirectional override (U+202E turns "réquisition exe.gnp" into what it is not)
would make the record say something other than what it stores. Such text is refused with a
422 naming the character, rather than silently cleaned: the writer sees what was wrong.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
"""Controls, format characters (bidi overrides and isolates, zero-width characters), surrogates,
private use, line and paragraph separators."""


def unprintable(text: str, *, newlines: bool = False) -> str | None:
    """The first character ``text`` may not hold, as ``U+XXXX``; None when it is clean."""
    for char in text:
        if newlines and char == "\n":
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def check_line(text: str) -> str:
    """One line of text (a reason): no control or invisible formatting character."""
    found = unprintable(text)
    if found:
        raise ValueError(f"control and direction characters are not allowed ({found})")
    return text


def check_lines(text: str) -> str:
    """Several lines (a comment): line feeds allowed (CR LF becomes LF), nothing else hidden."""
    text = text.replace("\r\n", "\n")
    found = unprintable(text, newlines=True)
    if found:
        raise ValueError(f"control and direction characters are not allowed ({found})")
    return text


Line = Annotated[str, AfterValidator(check_line)]
"""A str field of one printable line (pydantic)."""

Lines = Annotated[str, AfterValidator(check_lines)]
"""A str field of printable lines (pydantic)."""
