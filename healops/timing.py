"""Wall time of the named phases of one run (a detector tick, a generator tick), for the run's report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class PhaseTimer:
    """``with timer("read"): ...`` stores the phase's seconds in ``seconds["read"]``, rounded to ``digits``,
    whether the phase ended normally or raised."""

    def __init__(self, seconds: dict[str, float] | None = None, digits: int = 3) -> None:
        self.seconds: dict[str, float] = {} if seconds is None else seconds
        self.digits = digits

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, self.digits)
