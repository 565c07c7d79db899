"""The simulation's clock: tick numbers from wall-clock time.

``tick = floor(epoch_seconds x time_scale / tick_seconds)``: with the default time scale 1 and a
``rate(1 minute)`` tick, tick n is the n-th minute since the epoch. A stack run ``time_scale``
times faster (the embedded cloud's ``--time-scale``) sets the same factor here, so a tick still
stands for one schedule period of simulated time while the schedule fires every
``tick_seconds / time_scale`` real seconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class SimClock:
    tick_seconds: float = 60.0
    time_scale: float = 1.0

    def tick_at(self, epoch_seconds: float) -> int:
        return math.floor(epoch_seconds * self.time_scale / self.tick_seconds)

    def tick_of(self, when: datetime) -> int:
        return self.tick_at(when.timestamp())

    def now_tick(self) -> int:
        return self.tick_at(time.time())

    def start_of_tick(self, tick: int) -> datetime:
        """The real (UTC) time at which ``tick`` began: the inverse of :meth:`tick_at`."""
        return datetime.fromtimestamp(tick * self.tick_seconds / self.time_scale, tz=UTC)

    def ticks_for(self, duration_s: float) -> int:
        """Ticks covering ``duration_s`` simulated seconds (at least one)."""
        return max(1, math.ceil(duration_s / self.tick_seconds))
