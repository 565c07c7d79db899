"""The tests' fleet simulator: healops.fleet.simulator on a fixed simulated morning."""

from __future__ import annotations

from healops.fleet.simulator import Simulator

TICK_SECONDS = 60.0
# 10:00 simulated UTC on some day: mid-morning load, no benign spike on the services used here.
START_TICK = 29_000_000 + 600


class Sim(Simulator):
    def __init__(self, size: int = 8, seed: int = 7, tick: int = START_TICK) -> None:
        super().__init__(size, seed, tick, TICK_SECONDS)
