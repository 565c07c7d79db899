"""A tick's start time is the inverse of the tick numbering, at any time scale."""

from __future__ import annotations

import pytest

from healops.fleet.clock import SimClock


@pytest.mark.parametrize("time_scale", [1.0, 60.0])
def test_start_of_tick_is_the_first_instant_of_that_tick(time_scale: float) -> None:
    clock = SimClock(tick_seconds=60.0, time_scale=time_scale)
    tick = clock.tick_at(1_764_000_123.4)
    start = clock.start_of_tick(tick).timestamp()
    assert clock.tick_at(start) == tick
    assert clock.tick_at(start - 0.001) == tick - 1
