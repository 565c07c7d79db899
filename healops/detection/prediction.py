"""Prediction: time to exhaustion of a bounded resource, and multi-window SLO burn-rate alerts.

- ``forecast_exhaustion``: a Theil-Sen line (median of pairwise slopes, robust to up to ~29% outliers) through a
  window of recent points, its slope confidence interval from Sen's rank method, and the time until the line
  reaches capacity, with the ETA interval that the slope interval gives; ``predicted`` is ``eta < horizon`` on
  the point estimate (the caller opens a *predicted* incident with the ETA and its interval).
- ``BurnRateMonitor``: Google's SRE workbook multi-window, multi-burn-rate alert: a rule fires when the error
  budget burn rate over both its long and its short window exceeds its factor (defaults 1 h/5 min at 14.4x and
  6 h/30 min at 6x), with window lengths in ticks derived from the tick length.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist, median
from typing import Any


@dataclass(frozen=True)
class ExhaustionForecast:
    slope: float  # units per second
    level: float  # the fitted level at the last timestamp
    eta_seconds: float  # math.inf when not rising
    eta_low_seconds: float  # from the steeper end of the slope interval
    eta_high_seconds: float  # math.inf when the shallow end is not rising
    predicted: bool  # eta under the horizon


def theil_sen(times: list[float], values: list[float], confidence: float = 0.9) -> tuple[float, float, float, float]:
    """(slope, intercept, slope_low, slope_high): the median pairwise slope and Sen's confidence interval."""
    n = len(times)
    if n != len(values) or n < 3:
        raise ValueError(f"theil_sen needs at least 3 points and as many times as values (got {n}, {len(values)})")
    slopes = sorted(
        (values[j] - values[i]) / (times[j] - times[i])
        for i in range(n)
        for j in range(i + 1, n)
        if times[j] != times[i]
    )
    if not slopes:
        raise ValueError("theil_sen needs at least two distinct timestamps")
    slope = median(slopes)
    intercept = median(v - slope * t for t, v in zip(times, values, strict=True))
    # Sen (1968): the interval's ranks come from the variance of Kendall's S under no trend.
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    spread = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    lower = max(0, min(len(slopes) - 1, math.floor((len(slopes) - spread) / 2)))
    upper = max(0, min(len(slopes) - 1, math.ceil((len(slopes) + spread) / 2)))
    return slope, intercept, slopes[lower], slopes[upper]


def forecast_exhaustion(
    times: list[float], values: list[float], capacity: float = 100.0, horizon_seconds: float = 3600.0
) -> ExhaustionForecast:
    """When the robust trend of ``values`` (e.g. disk or memory percent) reaches ``capacity``."""
    slope, intercept, slope_low, slope_high = theil_sen(times, values)
    last = times[-1]
    level = intercept + slope * last
    headroom = max(0.0, capacity - level)

    def eta(rate: float) -> float:
        if headroom == 0.0:
            return 0.0
        return headroom / rate if rate > 0 else math.inf

    estimate = eta(slope)
    return ExhaustionForecast(
        slope=slope,
        level=level,
        eta_seconds=estimate,
        eta_low_seconds=eta(slope_high),
        eta_high_seconds=eta(slope_low),
        predicted=estimate < horizon_seconds,
    )


@dataclass(frozen=True)
class BurnRateRule:
    long_seconds: float
    short_seconds: float
    factor: float

    @property
    def name(self) -> str:
        return f"{self.long_seconds / 3600:g}h/{self.short_seconds / 60:g}m@{self.factor:g}x"


DEFAULT_RULES = (BurnRateRule(3600, 300, 14.4), BurnRateRule(6 * 3600, 1800, 6.0))


class BurnRateMonitor:
    """Multi-window burn-rate alerting on per-tick (errors, total) counts; state bounded by the longest window."""

    def __init__(self, slo: float, tick_seconds: float, rules: tuple[BurnRateRule, ...] = DEFAULT_RULES) -> None:
        if not 0.0 < slo < 1.0:
            raise ValueError(f"slo must be a fraction in (0, 1), e.g. 0.999; got {slo!r}")
        if tick_seconds <= 0:
            raise ValueError(f"tick_seconds must be positive, got {tick_seconds!r}")
        if not rules:
            raise ValueError("at least one burn-rate rule is required")
        self.slo = slo
        self.tick_seconds = tick_seconds
        self.rules = rules
        # each window is at least one tick, so a tick longer than a window still measures something
        self.windows = {
            rule: (max(1, round(rule.long_seconds / tick_seconds)), max(1, round(rule.short_seconds / tick_seconds)))
            for rule in rules
        }
        self.ticks: deque[tuple[float, float]] = deque(maxlen=max(long for long, _ in self.windows.values()))

    def burn_rate(self, ticks: int) -> float:
        """Error ratio over the last ``ticks`` ticks divided by the error budget (1 - slo)."""
        recent = list(self.ticks)[-ticks:]
        total = sum(t for _, t in recent)
        if total <= 0:
            return 0.0
        return (sum(e for e, _ in recent) / total) / (1.0 - self.slo)

    def update(self, errors: float, total: float) -> list[BurnRateRule]:
        """Add one tick's counts; return the rules that fire now (a full long window of data is required)."""
        if errors < 0 or total < 0 or errors > total:
            raise ValueError(f"need 0 <= errors <= total, got errors={errors!r} total={total!r}")
        self.ticks.append((float(errors), float(total)))
        fired = []
        for rule in self.rules:
            long_ticks, short_ticks = self.windows[rule]
            if len(self.ticks) < long_ticks:
                continue
            if self.burn_rate(long_ticks) > rule.factor and self.burn_rate(short_ticks) > rule.factor:
                fired.append(rule)
        return fired

    def to_state(self) -> dict[str, Any]:
        return {"ticks": [list(t) for t in self.ticks]}

    @classmethod
    def from_state(
        cls, state: dict[str, Any], slo: float, tick_seconds: float, rules: tuple[BurnRateRule, ...] = DEFAULT_RULES
    ) -> BurnRateMonitor:
        monitor = cls(slo, tick_seconds, rules)
        monitor.ticks.extend((float(e), float(t)) for e, t in state["ticks"])
        return monitor
