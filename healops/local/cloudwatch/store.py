"""The indexed metric store: one per moto CloudWatch backend (account and region).

Series are found through two dictionaries, by (namespace, name) and by (namespace, name,
dimensions), so a read touches only the series it asks for, and inside a series a binary
search finds the time range. Retention is enforced two ways: reads never look before the
cutoff, and :meth:`MetricStore.trim` (run periodically by the extension) frees the memory.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healops.local.cloudwatch.models import Series, SeriesKey, dimension_key, to_epoch

if TYPE_CHECKING:
    from collections.abc import Iterable

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_SECONDS = 15 * 24 * 3600.0
DEFAULT_MAX_POINTS_PER_SERIES = 500_000


@dataclass(frozen=True)
class RetentionPolicy:
    """How long and how much a series keeps.

    ``retention_seconds``: points stamped earlier than now minus this are invisible to reads
    and dropped by the next trim (AWS keeps one-minute data 15 days). ``max_points_per_series``
    bounds one series' memory whatever its resolution (None: no bound).
    """

    retention_seconds: float | None = DEFAULT_RETENTION_SECONDS
    max_points_per_series: int | None = DEFAULT_MAX_POINTS_PER_SERIES

    def __post_init__(self) -> None:
        if self.retention_seconds is not None and self.retention_seconds <= 0:
            raise ValueError(f"retention_seconds must be positive or None, got {self.retention_seconds!r}")
        if self.max_points_per_series is not None and self.max_points_per_series < 1:
            raise ValueError(f"max_points_per_series must be at least 1 or None, got {self.max_points_per_series!r}")

    def cutoff(self, now: float | None = None) -> float:
        """The earliest timestamp still kept (``-inf`` without a time limit)."""
        if self.retention_seconds is None:
            return float("-inf")
        return (time.time() if now is None else now) - self.retention_seconds


class MetricStore:
    """All series of one backend, with the indexes reads go through.

    One lock guards the dictionaries and the arrays: request threads put and read
    concurrently, and an ``array`` being resized must not be read half-way.
    """

    def __init__(self, policy: RetentionPolicy | None = None) -> None:
        self.policy = policy or RetentionPolicy()
        self.lock = threading.RLock()
        self._series: dict[SeriesKey, Series] = {}
        self._by_name: dict[tuple[str, str], list[Series]] = {}
        self._by_metric: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Series]] = {}

    # ----------------------------------------------------------------- writes
    def _series_for(
        self, namespace: str, metric_name: str, dimensions: list[dict[str, str]], unit: str | None
    ) -> Series:
        dims = dimension_key(dimensions)
        key: SeriesKey = (namespace, metric_name, dims, unit)
        series = self._series.get(key)
        if series is None:
            shown = tuple((d["Name"], d["Value"]) for d in dimensions)
            series = Series(namespace, metric_name, shown, unit)
            self._series[key] = series
            self._by_name.setdefault((namespace, metric_name), []).append(series)
            self._by_metric.setdefault((namespace, metric_name, dims), []).append(series)
        return series

    def put(self, namespace: str, metric_data: list[dict[str, Any]], now: float | None = None) -> int:
        """Store PutMetricData members (already validated); the number of datapoints kept."""
        now = time.time() if now is None else now
        cutoff = self.policy.cutoff(now)
        stored = 0
        with self.lock:
            for member in metric_data:
                stamp_value = member.get("Timestamp")
                stamp = to_epoch(stamp_value) if isinstance(stamp_value, datetime) else now
                if stamp < cutoff:
                    continue  # older than retention: it would be invisible anyway
                series = self._series_for(
                    namespace, member["MetricName"], member.get("Dimensions") or [], member.get("Unit")
                )
                series.last_put = now
                values = member.get("Values")
                if values:
                    counts = member.get("Counts") or [1] * len(values)
                    for value, count in zip(values, counts, strict=False):
                        weight = float(int(float(count)))  # moto adds each value int(count) times
                        if weight > 0:
                            series.add_value(stamp, float(value), weight)
                            stored += 1
                elif member.get("StatisticValues"):
                    stats = member["StatisticValues"]
                    series.add_statistic_set(
                        stamp,
                        float(stats["Sum"]),
                        float(stats["SampleCount"]),
                        float(stats["Minimum"]),
                        float(stats["Maximum"]),
                    )
                    stored += 1
                else:
                    series.add_value(stamp, float(member.get("Value", 0)))
                    stored += 1
                limit = self.policy.max_points_per_series
                # Trim in chunks: deleting one point from the front of a long array is a memmove.
                if limit is not None and len(series) > limit + max(limit // 16, 1):
                    series.keep_last(limit)
        return stored

    def bulk_load_plain(
        self,
        namespace: str,
        metric_name: str,
        dimensions: list[dict[str, str]],
        unit: str | None,
        timestamps: array[float],
        values: array[float],
    ) -> None:
        """Append many plain values to one series (benchmarks, in-process loading).

        Points must be in time order; ones before the series' last point go through the
        ordinary ordered insert.
        """
        with self.lock:
            series = self._series_for(namespace, metric_name, dimensions, unit)
            series.last_put = time.time()
            if len(series) and len(timestamps) and timestamps[0] < series.timestamps[-1]:
                for stamp, value in zip(timestamps, values, strict=True):
                    series.add_value(stamp, value)
            else:
                series.extend_plain(timestamps, values)

    # ----------------------------------------------------------------- reads
    def by_name(self, namespace: str, metric_name: str) -> list[Series]:
        with self.lock:
            return list(self._by_name.get((namespace, metric_name), ()))

    def by_metric(self, namespace: str, metric_name: str, dimensions: list[dict[str, str]]) -> list[Series]:
        """Series with exactly these dimensions (any unit)."""
        with self.lock:
            return list(self._by_metric.get((namespace, metric_name, dimension_key(dimensions)), ()))

    def all_series(self) -> list[Series]:
        with self.lock:
            return list(self._series.values())

    def point_count(self) -> int:
        with self.lock:
            return sum(len(series) for series in self._series.values())

    # ----------------------------------------------------------------- retention
    def trim(self, now: float | None = None) -> int:
        """Drop points past retention, and series left empty; the number of points dropped."""
        cutoff = self.policy.cutoff(now)
        limit = self.policy.max_points_per_series
        dropped = 0
        with self.lock:
            emptied: list[SeriesKey] = []
            for key, series in self._series.items():
                dropped += series.drop_before(cutoff)
                if limit is not None:
                    dropped += series.keep_last(limit)
                if not len(series):
                    emptied.append(key)
            for key in emptied:
                self._forget(key)
        if dropped:
            logger.debug("metric store dropped %d points past retention", dropped)
        return dropped

    def _forget(self, key: SeriesKey) -> None:
        series = self._series.pop(key)
        namespace, metric_name, dims, _unit = key
        self._remove(self._by_name, (namespace, metric_name), series)
        self._remove(self._by_metric, (namespace, metric_name, dims), series)

    @staticmethod
    def _remove(index: dict[Any, list[Series]], key: Any, series: Series) -> None:
        members = index.get(key)
        if members is None:
            return
        members[:] = [member for member in members if member is not series]
        if not members:
            del index[key]


def store_from_datums(datums: Iterable[Any]) -> MetricStore:
    """A throwaway store holding moto ``MetricDatum`` objects (metrics moto computes on the fly,
    such as S3's bucket sizes), so reads see them next to what was put."""
    store = MetricStore(RetentionPolicy(retention_seconds=None, max_points_per_series=None))
    for datum in datums:
        dimensions = [{"Name": d.name, "Value": d.value} for d in datum.dimensions]
        member: dict[str, Any] = {
            "MetricName": datum.name,
            "Dimensions": dimensions,
            "Unit": datum.unit,
            "Timestamp": datum.timestamp,
        }
        if hasattr(datum, "value"):
            member["Value"] = datum.value
        else:
            member["StatisticValues"] = {
                "Sum": datum.sum,
                "SampleCount": datum.sample_count,
                "Minimum": datum.min,
                "Maximum": datum.max,
            }
        store.put(datum.namespace, [member])
    return store
