"""Powering a mast's cameras: which PoE switch(es), and which cameras need a separate supply.

Pure: camera models and the catalogue's switches in, a `PoeChoice` out; the estimate prices it
(``vigie.estimate.dqe``). The rule, per mast:

1. a camera no switch port of the catalogue can power (its PoE class above every switch's, or
   ``poe: none``) gets a separate supply, and still takes a port for its data;
2. among the switch models, taken ``n`` at a time (as many as the ports, and the PoE budget, need),
   the choice powers as many cameras as it can, then costs the least (fewer switches,
   then catalogue order, on a tie). A camera counts against a budget at its draw plus the worst
   cable loss of its class (`CameraModel.poe_draw_w`).

A camera the chosen model cannot power (mixed models on one mast, one stronger than the model
chosen for the rest) falls to a separate supply too; a mast whose cameras no switch can power
gets the cheapest switch for their data and a separate supply each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cameras.catalogue import CameraModel, SwitchModel

__all__ = ["PoeChoice", "choose_poe"]


@dataclass(frozen=True)
class PoeChoice:
    switch: str | None
    """Key of the switch model (``switch_poe_bt``), None when the mast has no camera."""
    switches: int
    """How many of that model the mast gets."""
    separate: int
    """Cameras on a separate supply (too hungry for any port)."""
    price: float
    """The switches and the separate supplies, euros HT."""


def choose_poe(
    cameras: Sequence[CameraModel], switches: Iterable[SwitchModel], supply_price: float = 0.0
) -> PoeChoice:
    """The switches and separate supplies that power ``cameras`` (one entry per camera).

    ``switches`` are the catalogue's (`Catalogue.switches`), in its order; ``supply_price`` is the
    price of one separate supply, so that the result's ``price`` is the mast's whole PoE bill.
    """
    models = list(switches)
    if not models:
        raise ValueError("no PoE switch to choose from")
    if not cameras:
        return PoeChoice(None, 0, 0, 0.0)
    best: tuple[tuple[int, float, int, int], PoeChoice] | None = None
    for order, model in enumerate(models):
        powered = [
            c.poe_draw_w for c in cameras if model.powers(c) and c.poe_draw_w <= model.budget_w
        ]
        separate = len(cameras) - len(powered)
        start = max(
            math.ceil(len(cameras) / model.ports), math.ceil(sum(powered) / model.budget_w - 1e-9)
        )
        count = start
        while not _fits(powered, separate, model, count):
            count += 1
        price = round(count * model.price + separate * supply_price, 2)
        rank = (separate, price, count, order)
        if best is None or rank < best[0]:
            best = (rank, PoeChoice(model.key, count, separate, price))
    assert best is not None
    return best[1]


def _fits(draws: list[float], separate: int, model: SwitchModel, count: int) -> bool:
    """Whether ``count`` switches hold the powered cameras (largest draw first, first fit, each
    switch within its budget and ports) and have a port left for each separately supplied one."""
    watts = [model.budget_w] * count
    ports = [model.ports] * count
    for draw in sorted(draws, reverse=True):
        for i in range(count):
            if ports[i] and draw <= watts[i] + 1e-9:
                watts[i] -= draw
                ports[i] -= 1
                break
        else:
            return False
    return sum(ports) >= separate
