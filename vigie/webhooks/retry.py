"""When to try a failed delivery again: exponential backoff with jitter, capped. Pure."""

from __future__ import annotations

import random
from collections.abc import Callable

JITTER = 0.2
"""Each delay is moved by up to ±20 %, so receivers coming back are not hit by every retry at
the same instant."""


def backoff(
    attempts: int,
    *,
    base: float = 1.0,
    cap: float = 600.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after the ``attempts``-th failure in a row: base, 2 base, 4 base ... cap."""
    if attempts < 1:
        return 0.0
    # min() first: 2 ** 1000 is fine for Python ints but not as a float.
    delay = min(cap, base * 2 ** min(attempts - 1, 64))
    return min(cap, delay * (1 - JITTER + 2 * JITTER * rand()))
