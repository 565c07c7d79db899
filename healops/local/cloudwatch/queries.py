"""GetMetricData, GetMetricStatistics and ListMetrics answered from the indexed store.

The answers follow moto 5.2.5's for the same data (a differential test pins this), so code
written against plain moto sees no change, with these deliberate differences:

- GetMetricData with dimensions also matches the namespace (moto ignores it there) and
  compares dimensions as a set (moto's ``Dimension.__lt__`` makes the order matter);
- percentiles (``pNN``) are computed, nearest-rank over raw values (moto answers nothing),
  as are GetMetricStatistics' ``ExtendedStatistics`` (moto ignores them);
- metric math beyond a bare id (see :mod:`.expressions`); ``ReturnData: false`` hides an
  expression too (moto always returns expressions);
- ListMetrics lists each metric once (moto repeats dimensionless and multi-dimension metrics
  once per datapoint) and honours ``RecentlyActive`` (publishes in the last 3 hours);
- nothing older than the retention cutoff is read; unsupported statistics are an error.

Kept from moto on purpose: GetMetricData periods start at ``StartTime`` (whole seconds),
not at clock-aligned boundaries; a MetricStat without dimensions aggregates every series of
that name; GetMetricStatistics matches dimensions as a subset and starts its periods at the
first datapoint; the default label is ``"<MetricName> <Stat>"``.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from healops.local.cloudwatch.expressions import ExpressionError, evaluate
from healops.local.cloudwatch.models import (
    BASIC_STATISTICS,
    Aggregate,
    Series,
    UnsupportedStatisticError,
    check_statistic,
    from_epoch,
    percentile_of,
    to_epoch,
)

if TYPE_CHECKING:
    from healops.local.cloudwatch.store import MetricStore

RECENTLY_ACTIVE_SECONDS = 3 * 3600.0


class QueryError(ValueError):
    """A request the store rejects; ``code`` says which moto error class to raise."""

    def __init__(self, message: str, code: str = "InvalidParameterValue") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class StoreView:
    """The stores one request reads: the backend's own and, if any, moto's computed metrics."""

    stores: list[MetricStore]

    def cutoff(self) -> float:
        return self.stores[0].policy.cutoff() if self.stores else float("-inf")

    def by_name(self, namespace: str, metric_name: str) -> list[tuple[MetricStore, Series]]:
        return [(store, series) for store in self.stores for series in store.by_name(namespace, metric_name)]

    def by_metric(
        self, namespace: str, metric_name: str, dimensions: list[dict[str, str]]
    ) -> list[tuple[MetricStore, Series]]:
        return [
            (store, series) for store in self.stores for series in store.by_metric(namespace, metric_name, dimensions)
        ]

    def everything(self) -> list[tuple[MetricStore, Series]]:
        return [(store, series) for store in self.stores for series in store.all_series()]


def bucket(
    found: list[tuple[MetricStore, Series]],
    origin: float,
    start: float,
    end: float,
    period: float,
    keep_raw: bool,
) -> dict[int, Aggregate]:
    """Aggregates of the points in ``[start, end)``, keyed by period number counted from ``origin``."""
    buckets: dict[int, Aggregate] = {}
    for store, series in found:
        with store.lock:
            stamps = series.timestamps
            i, hi = series.index_range(start, end)
            while i < hi:
                number = int((stamps[i] - origin) // period)
                j = bisect_left(stamps, origin + (number + 1) * period, i, hi)
                aggregate = buckets.get(number)
                if aggregate is None:
                    aggregate = buckets[number] = Aggregate()
                aggregate.add_range(series, i, j, keep_raw)
                i = j
    return buckets


def _whole_seconds(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _period_of(raw: Any, where: str) -> int:
    try:
        period = int(raw)
    except (TypeError, ValueError):
        raise QueryError(f"{where}: Period must be a whole number of seconds, got {raw!r}") from None
    if period <= 0:
        raise QueryError(f"{where}: Period must be a positive number of seconds, got {period}")
    return period


def _select_for_metric_stat(view: StoreView, metric_stat: dict[str, Any]) -> list[tuple[MetricStore, Series]]:
    metric = metric_stat["Metric"]
    dimensions = metric.get("Dimensions") or []
    if dimensions:
        found = view.by_metric(metric["Namespace"], metric["MetricName"], dimensions)
    else:
        found = view.by_name(metric["Namespace"], metric["MetricName"])
    unit = metric_stat.get("Unit")
    if unit:
        found = [(store, series) for store, series in found if series.unit == unit]
    return found


def get_metric_data(
    view: StoreView,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """MetricDataResults for ``queries`` (moto's shape: id, label, values, timestamps, status_code)."""
    start_time, end_time = _whole_seconds(start_time), _whole_seconds(end_time)
    if start_time > end_time:
        raise QueryError("The parameter EndTime must be greater than StartTime.", "ValidationError")
    if start_time == end_time:
        raise QueryError("The parameter StartTime must not equal parameter EndTime.", "ValidationError")
    origin, end = to_epoch(start_time), to_epoch(end_time)
    read_from = max(origin, view.cutoff())
    descending = scan_by == "TimestampDescending"

    series_by_id: dict[str, dict[datetime, float]] = {}
    returned: list[dict[str, Any]] = []
    grid_period: int | None = None
    for query in queries:
        if "MetricStat" not in query:
            continue
        metric_stat = query["MetricStat"]
        period = _period_of(metric_stat.get("Period"), f"query {query.get('Id')!r}")
        grid_period = grid_period or period
        stat = metric_stat["Stat"]
        try:
            check_statistic(stat)
        except UnsupportedStatisticError as exc:
            raise QueryError(f"query {query.get('Id')!r}: {exc}") from None
        found = _select_for_metric_stat(view, metric_stat)
        buckets = bucket(found, origin, read_from, end, period, percentile_of(stat) is not None)
        points: dict[datetime, float] = {}
        for number in sorted(buckets):
            value = buckets[number].statistic(stat)
            if value is not None:
                points[start_time + timedelta(seconds=number * period)] = value
        series_by_id[query["Id"]] = points
        if query.get("ReturnData", True):
            label = query.get("Label") or f"{metric_stat['Metric']['MetricName']} {stat}"
            returned.append(_result(query["Id"], label, points, descending))

    grid: list[datetime] = []
    if grid_period is not None:
        steps = int((end - origin) // grid_period) + 1
        grid = [start_time + timedelta(seconds=k * grid_period) for k in range(steps)]
    for query in queries:
        expression = query.get("Expression")
        if expression is None or expression.startswith("SELECT"):
            continue
        try:
            points = evaluate(expression, series_by_id, grid)
        except ExpressionError as exc:
            raise QueryError(f"query {query.get('Id')!r}: {exc}", "ValidationError") from None
        series_by_id[query["Id"]] = points
        if query.get("ReturnData", True):
            returned.append(_result(query["Id"], query.get("Label") or query["Id"], points, descending))

    # Metrics Insights: moto sums every datapoint of the period whatever the SQL says; so do we.
    for query in queries:
        expression = query.get("Expression")
        if expression is None or not expression.startswith("SELECT"):
            continue
        period = _period_of(query.get("Period"), f"query {query.get('Id')!r}")
        buckets = bucket(view.everything(), origin, read_from, end, period, False)
        points = {start_time + timedelta(seconds=number * period): buckets[number].total for number in sorted(buckets)}
        returned.append(_result(query["Id"], query.get("Label") or query["Id"], points, descending))
    return returned


def _result(query_id: str, label: str, points: dict[datetime, float], descending: bool) -> dict[str, Any]:
    stamps = sorted(points, reverse=descending)
    return {
        "id": query_id,
        "label": label,
        "values": [points[stamp] for stamp in stamps],
        "timestamps": stamps,
        "status_code": "Complete",
    }


def _dimensions_cover(series: Series, wanted: list[dict[str, str]]) -> bool:
    """Every wanted dimension is on the series; one without a Value matches any value (moto)."""
    for dimension in wanted:
        name, value = dimension.get("Name"), dimension.get("Value")
        if not any(
            have_name == name and (value is None or have_value == value) for have_name, have_value in series.dimensions
        ):
            return False
    return True


def get_metric_statistics(
    view: StoreView,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    statistics: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
    extended_statistics: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Datapoints (ascending) for GetMetricStatistics, as dictionaries in the API's shape."""
    start_time, end_time = _whole_seconds(start_time), _whole_seconds(end_time)
    if start_time >= end_time:
        raise QueryError("The parameter StartTime must be less than the parameter EndTime.")
    period = _period_of(period, "GetMetricStatistics")
    for stat in statistics:
        if stat not in BASIC_STATISTICS:
            raise QueryError(
                f"Statistics: {stat!r} is not a statistic; use {', '.join(BASIC_STATISTICS)} "
                "(percentiles go in ExtendedStatistics)"
            )
    extended = list(extended_statistics or [])
    for stat in extended:
        if percentile_of(stat) is None:
            raise QueryError(f"ExtendedStatistics: {stat!r} is not supported; use percentiles pNN or pNN.NN")
    found = view.by_name(namespace, metric_name)
    if unit:
        found = [(store, series) for store, series in found if series.unit == unit]
    if dimensions:
        found = [(store, series) for store, series in found if _dimensions_cover(series, dimensions)]
    read_from = max(to_epoch(start_time), view.cutoff())
    end = to_epoch(end_time)
    first = _first_timestamp(found, read_from, end)
    if first is None:
        return []
    buckets = bucket(found, first, read_from, end, period, bool(extended))
    datapoints: list[dict[str, Any]] = []
    for number in sorted(buckets):
        aggregate = buckets[number]
        datapoint: dict[str, Any] = {"Timestamp": from_epoch(first + number * period)}
        for stat in statistics:
            value = aggregate.statistic(stat)
            if value is not None:
                datapoint[stat] = value
        if extended:
            datapoint["ExtendedStatistics"] = {
                stat: value for stat in extended if (value := aggregate.statistic(stat)) is not None
            }
        if aggregate.last_unit is not None:
            datapoint["Unit"] = aggregate.last_unit
        datapoints.append(datapoint)
    return datapoints


def _first_timestamp(found: list[tuple[MetricStore, Series]], start: float, end: float) -> float | None:
    first: float | None = None
    for store, series in found:
        with store.lock:
            lo, hi = series.index_range(start, end)
            if lo < hi and (first is None or series.timestamps[lo] < first):
                first = series.timestamps[lo]
    return first


@dataclass(frozen=True)
class ListedMetric:
    """One ListMetrics entry; attribute names are what moto's serializer looks for."""

    namespace: str
    metric_name: str
    dimensions: list[dict[str, str]]


def list_metrics(
    view: StoreView,
    namespace: str | None,
    metric_name: str | None,
    dimensions: list[dict[str, str]],
    recently_active: str | None = None,
    now: float | None = None,
) -> list[ListedMetric]:
    """Each metric (namespace, name, dimensions) once, in the order first put."""
    if recently_active not in (None, "", "PT3H"):
        raise QueryError(f"RecentlyActive: {recently_active!r} is not supported; the only value is PT3H")
    active_since = (time.time() if now is None else now) - RECENTLY_ACTIVE_SECONDS if recently_active else None
    candidates = view.by_name(namespace, metric_name) if namespace and metric_name else view.everything()
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    listed: list[ListedMetric] = []
    for _store, series in candidates:
        if namespace and series.namespace != namespace:
            continue
        if metric_name and series.metric_name != metric_name:
            continue
        if dimensions and not _dimensions_cover(series, dimensions):
            continue
        if active_since is not None and series.last_put < active_since:
            continue
        if not len(series):
            continue
        identity = (series.namespace, series.metric_name, tuple(sorted(series.dimensions)))
        if identity in seen:
            continue
        seen.add(identity)
        listed.append(
            ListedMetric(
                namespace=series.namespace,
                metric_name=series.metric_name,
                dimensions=[{"Name": name, "Value": value} for name, value in series.dimensions],
            )
        )
    return listed
