"""The budget block of a plan (`planning.budget`), in the French its readers use.

Apart from `planning.budget` so that the map and the CLI read it without the router's imports.
"""

from __future__ import annotations

import math
from typing import Any

from planning.french import euros


def next_euro_lines(block: dict[str, Any], count: int = 3) -> list[str]:
    """What the next euros buy, in French, from the ``budget`` block of ``summary.json``.

    ``avec 48 200 € de plus : mâts M-27056-03 et M-27229-01 (priorité 3)``: cumulative, beyond
    the envelope, rounded up to the hundred euros (estimates unless a real plan measured them).
    """
    lines = []
    steps = block.get("next") or []
    for k in range(min(count, len(steps))):
        masts = [s["mast_id"] for s in steps[: k + 1]]
        extra = max(math.ceil(steps[k]["extra_eur"] / 100) * 100, 100)
        names = masts[0] if len(masts) == 1 else f"{', '.join(masts[:-1])} et {masts[-1]}"
        noun = "mât" if len(masts) == 1 else "mâts"
        priority = sum(s["priority"] for s in steps[: k + 1])
        lines.append(f"avec {euros(extra)} de plus : {noun} {names} (priorité {priority})")
    return lines
