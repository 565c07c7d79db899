"""The tests' fleet simulator: healops.fleet.simulator on a fixed simulated morning."""

from __future__ import annotations

from healops.fleet.simulator import MORNING_TICK, Simulator

TICK_SECONDS = 60.0
# 03:20 simulated UTC the day after MORNING_TICK: near the trough of the daily cycle, the quietest traffic.
NIGHT_TICK = 29_001_800
# 16:16 simulated UTC, near the daily peak: from the fifth tick after it a benign burst holds checkout's CPU at 78-88%.
PEAK_BURST_TICK = 29_001_136


class Sim(Simulator):
    def __init__(self, size: int = 8, seed: int = 7, tick: int = MORNING_TICK) -> None:
        super().__init__(size, seed, tick, TICK_SECONDS)
