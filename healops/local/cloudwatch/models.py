"""Compact per-series storage of metric datapoints and the statistics computed from it.

A series is one (namespace, metric name, dimensions, unit). Its datapoints live in parallel
``array('d')`` columns ordered by timestamp: 16 bytes a point for plain values. Series that
ever receive a statistic set (``StatisticValues``) or weighted values (``Values``/``Counts``)
grow three more columns (count, minimum, maximum) and a raw-flag column, so the common case
stays small.
"""

from __future__ import annotations

import math
import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1)

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)$")

DimensionKey = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, str, DimensionKey, "str | None"]


class UnsupportedStatisticError(ValueError):
    """A statistic name the store does not compute."""


def to_epoch(value: datetime) -> float:
    """Epoch seconds of ``value``; naive datetimes are UTC (moto's convention)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return (value - EPOCH).total_seconds()


def from_epoch(seconds: float) -> datetime:
    """Naive UTC datetime for ``seconds``, exact to the microsecond."""
    return EPOCH + timedelta(microseconds=round(seconds * 1_000_000))


def dimension_key(dimensions: list[dict[str, str]] | tuple[tuple[str, str], ...]) -> DimensionKey:
    """The order-free identity of a dimension set."""
    if isinstance(dimensions, tuple):
        return tuple(sorted(dimensions))
    return tuple(sorted((d["Name"], d["Value"]) for d in dimensions))


def percentile_of(stat: str) -> float | None:
    """The percentile in ``pNN`` / ``pNN.NN`` as a number, or None for other statistics."""
    match = _PERCENTILE.match(stat)
    return float(match.group(1)) if match else None


def check_statistic(stat: str) -> None:
    """Raise a clear error for a statistic the store cannot compute."""
    if stat in BASIC_STATISTICS or percentile_of(stat) is not None:
        return
    raise UnsupportedStatisticError(
        f"statistic {stat!r} is not supported by the embedded metric store; use one of "
        f"{', '.join(BASIC_STATISTICS)} or a percentile pNN / pNN.NN (0-100)"
    )


class Series:
    """The datapoints of one metric series, ordered by timestamp (ties keep arrival order)."""

    __slots__ = (
        "counts",
        "dimensions",
        "last_put",
        "maximums",
        "metric_name",
        "minimums",
        "namespace",
        "raw",
        "timestamps",
        "unit",
        "values",
    )

    def __init__(self, namespace: str, metric_name: str, dimensions: DimensionKey, unit: str | None) -> None:
        self.namespace = namespace
        self.metric_name = metric_name
        # As first put: ListMetrics shows dimensions in the caller's order, as moto does.
        self.dimensions = dimensions
        self.unit = unit
        self.timestamps = array("d")
        # Plain value, or the Sum of a statistic set.
        self.values = array("d")
        # Present only once a statistic set or a weighted value arrived (see module docstring).
        self.counts: array[float] | None = None
        self.minimums: array[float] | None = None
        self.maximums: array[float] | None = None
        self.raw: array[int] | None = None
        self.last_put = 0.0

    def __len__(self) -> int:
        return len(self.timestamps)

    def _widen(self) -> None:
        n = len(self.values)
        self.counts = array("d", [1.0]) * n
        self.minimums = array("d", self.values)
        self.maximums = array("d", self.values)
        self.raw = array("b", [1]) * n

    def _position(self, timestamp: float) -> int:
        """Index at which a point stamped ``timestamp`` goes (after equal stamps)."""
        n = len(self.timestamps)
        if n == 0 or self.timestamps[n - 1] <= timestamp:
            return n
        return bisect_right(self.timestamps, timestamp)

    def add_value(self, timestamp: float, value: float, count: float = 1.0) -> None:
        if count != 1.0 and self.counts is None:
            self._widen()
        index = self._position(timestamp)
        self._insert(index, timestamp, value, count, value, value, 1)

    def add_statistic_set(self, timestamp: float, total: float, count: float, minimum: float, maximum: float) -> None:
        if self.counts is None:
            self._widen()
        index = self._position(timestamp)
        self._insert(index, timestamp, total, count, minimum, maximum, 0)

    def _insert(
        self, index: int, timestamp: float, value: float, count: float, low: float, high: float, raw: int
    ) -> None:
        if index == len(self.timestamps):
            self.timestamps.append(timestamp)
            self.values.append(value)
            if self.counts is not None:
                self.counts.append(count)
                self.minimums.append(low)  # type: ignore[union-attr]
                self.maximums.append(high)  # type: ignore[union-attr]
                self.raw.append(raw)  # type: ignore[union-attr]
            return
        self.timestamps.insert(index, timestamp)
        self.values.insert(index, value)
        if self.counts is not None:
            self.counts.insert(index, count)
            self.minimums.insert(index, low)  # type: ignore[union-attr]
            self.maximums.insert(index, high)  # type: ignore[union-attr]
            self.raw.insert(index, raw)  # type: ignore[union-attr]

    def extend_plain(self, timestamps: array[float], values: array[float]) -> None:
        """Bulk append of plain values already in order and not before the last point."""
        if self.counts is not None:
            for stamp, value in zip(timestamps, values, strict=True):
                self.add_value(stamp, value)
            return
        self.timestamps.extend(timestamps)
        self.values.extend(values)

    def drop_before(self, cutoff: float) -> int:
        """Drop points stamped before ``cutoff``; the number dropped."""
        cut = bisect_left(self.timestamps, cutoff)
        if cut:
            self._drop_prefix(cut)
        return cut

    def keep_last(self, limit: int) -> int:
        excess = len(self.timestamps) - limit
        if excess > 0:
            self._drop_prefix(excess)
            return excess
        return 0

    def _drop_prefix(self, count: int) -> None:
        del self.timestamps[:count]
        del self.values[:count]
        if self.counts is not None:
            del self.counts[:count]
            del self.minimums[:count]  # type: ignore[index]
            del self.maximums[:count]  # type: ignore[index]
            del self.raw[:count]  # type: ignore[index]

    def index_range(self, start: float, end: float) -> tuple[int, int]:
        """Indexes of the points with ``start <= timestamp < end``."""
        return bisect_left(self.timestamps, start), bisect_left(self.timestamps, end)


@dataclass
class Aggregate:
    """What one period's datapoints add up to: enough to answer every supported statistic."""

    sample_count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    points: int = 0
    # (value, weight) of raw values, kept only when a percentile is asked for.
    raw_values: list[tuple[float, float]] | None = None
    # Timestamp and unit of the latest point (GetMetricStatistics reports that unit, as moto).
    last_timestamp: float = -math.inf
    last_unit: str | None = None
    units: set[str | None] = field(default_factory=set)

    def add_range(self, series: Series, lo: int, hi: int, keep_raw: bool) -> None:
        """Fold in ``series`` points ``lo:hi``."""
        if hi <= lo:
            return
        self.points += hi - lo
        if series.timestamps[hi - 1] >= self.last_timestamp:
            self.last_timestamp = series.timestamps[hi - 1]
            self.last_unit = series.unit
        if series.counts is None:
            chunk = series.values[lo:hi]
            self.sample_count += hi - lo
            self.total += sum(chunk)
            self.minimum = min(self.minimum, min(chunk))
            self.maximum = max(self.maximum, max(chunk))
            if keep_raw:
                if self.raw_values is None:
                    self.raw_values = []
                self.raw_values.extend((value, 1.0) for value in chunk)
            return
        assert series.minimums is not None and series.maximums is not None and series.raw is not None
        for index in range(lo, hi):
            count = series.counts[index]
            value = series.values[index]
            self.sample_count += count
            if series.raw[index]:
                self.total += value * count
                if keep_raw:
                    if self.raw_values is None:
                        self.raw_values = []
                    self.raw_values.append((value, count))
            else:
                self.total += value
            self.minimum = min(self.minimum, series.minimums[index])
            self.maximum = max(self.maximum, series.maximums[index])

    def statistic(self, stat: str) -> float | None:
        """The value of ``stat`` (a basic statistic or pNN) for these points, None if undefined."""
        if self.points == 0:
            return None
        if stat == "SampleCount":
            return self.sample_count
        if stat == "Sum":
            return self.total
        if stat == "Average":
            return self.total / self.sample_count if self.sample_count else None
        if stat == "Minimum":
            return self.minimum
        if stat == "Maximum":
            return self.maximum
        rank = percentile_of(stat)
        if rank is None:
            raise UnsupportedStatisticError(f"statistic {stat!r} is not supported")
        return weighted_percentile(self.raw_values or [], rank)


def weighted_percentile(values: list[tuple[float, float]], rank: float) -> float | None:
    """Nearest-rank percentile of weighted values; None without raw values.

    Statistic sets carry no distribution, so (like CloudWatch for sets) they give no percentile.
    """
    if not values:
        return None
    ordered = sorted(values)
    total = sum(weight for _, weight in ordered)
    target = max(rank / 100.0 * total, 0.0)
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= target - 1e-9 * total:
            return value
    return ordered[-1][0]
