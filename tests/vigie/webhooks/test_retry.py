"""Backoff: doubling from the base, capped, jittered within ±20 %."""

from __future__ import annotations

import pytest

from vigie.webhooks.retry import backoff


def test_delays_double_from_the_base_and_stop_at_the_cap() -> None:
    middle = lambda: 0.5  # noqa: E731 - no jitter at the middle of the range
    delays = [backoff(n, base=1.0, cap=600.0, rand=middle) for n in range(1, 13)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]
    assert backoff(10_000, base=1.0, cap=600.0, rand=middle) == 600


@pytest.mark.parametrize("attempts", [1, 3, 8])
def test_jitter_stays_within_twenty_percent(attempts: int) -> None:
    nominal = 2.0 ** (attempts - 1)
    assert backoff(attempts, rand=lambda: 0.0) == pytest.approx(0.8 * nominal)
    assert backoff(attempts, rand=lambda: 1.0) == pytest.approx(1.2 * nominal)


def test_jitter_never_exceeds_the_cap() -> None:
    assert backoff(20, base=1.0, cap=10.0, rand=lambda: 1.0) == 10.0


def test_no_failure_no_wait() -> None:
    assert backoff(0) == 0.0
