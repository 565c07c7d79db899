"""The metric store on its own: ordering, retention, statistics, percentiles, periods."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

import pytest

from healops.local.cloudwatch.models import Aggregate, Series, UnsupportedStatisticError, check_statistic, to_epoch
from healops.local.cloudwatch.queries import QueryError, StoreView, get_metric_data, get_metric_statistics
from healops.local.cloudwatch.store import MetricStore, RetentionPolicy

NOW = datetime(2025, 6, 1, 12, 0, 0)
DIMS = [{"Name": "Service", "Value": "checkout"}]


def _put(store: MetricStore, value: float, at: datetime, **extra: object) -> None:
    store.put(
        "NS",
        [{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at, "Value": value, **extra}],
        now=to_epoch(NOW),
    )


def _stat_query(stat: str, period: int = 60, **metric_stat: object) -> dict[str, object]:
    return {
        "Id": "m1",
        "MetricStat": {
            "Metric": {"Namespace": "NS", "MetricName": "Latency", "Dimensions": DIMS},
            "Period": period,
            "Stat": stat,
            **metric_stat,
        },
    }


def test_out_of_order_points_are_kept_in_time_order() -> None:
    series = Series("NS", "M", (), None)
    for stamp in (5.0, 1.0, 3.0, 3.0, 9.0, 0.5):
        series.add_value(stamp, stamp * 10)
    assert list(series.timestamps) == [0.5, 1.0, 3.0, 3.0, 5.0, 9.0]
    assert list(series.values) == [5.0, 10.0, 30.0, 30.0, 50.0, 90.0]


def test_points_older_than_retention_are_not_read_and_trim_frees_them() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=3600, max_points_per_series=None))
    now = to_epoch(NOW)
    # Put while they were recent: an hour later they are past retention.
    store.put(
        "NS",
        [{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": NOW - timedelta(hours=2), "Value": 1.0}],
        now=now - 7200,
    )
    store.put(
        "NS",
        [{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": NOW - timedelta(minutes=5), "Value": 2.0}],
        now=now,
    )
    assert store.point_count() == 2
    assert store.trim(now=now) == 1
    assert store.point_count() == 1
    store.put(
        "NS", [{"MetricName": "Old", "Dimensions": DIMS, "Timestamp": NOW - timedelta(hours=3), "Value": 1.0}], now=now
    )
    assert store.by_name("NS", "Old") == [], "a point older than retention is not stored at all"


def test_an_expired_series_disappears_from_the_index() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=60, max_points_per_series=None))
    store.put("NS", [{"MetricName": "Gone", "Timestamp": NOW, "Value": 1.0}], now=to_epoch(NOW))
    store.trim(now=to_epoch(NOW) + 3600)
    assert store.by_name("NS", "Gone") == []
    assert store.all_series() == []


def test_max_points_per_series_keeps_the_newest() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=None, max_points_per_series=100))
    for second in range(300):
        _put(store, float(second), NOW - timedelta(seconds=300 - second))
    (series,) = store.by_name("NS", "Latency")
    assert len(series) <= 100 + 100 // 16 + 1
    store.trim()
    assert len(series) == 100
    assert series.values[-1] == 299.0 and series.values[0] == 200.0


def test_percentiles_are_nearest_rank_over_raw_values() -> None:
    aggregate = Aggregate()
    series = Series("NS", "M", (), None)
    for value in range(1, 101):  # 1..100
        series.add_value(float(value), float(value))
    aggregate.add_range(series, 0, len(series), keep_raw=True)
    assert aggregate.statistic("p50") == 50.0
    assert aggregate.statistic("p90") == 90.0
    assert aggregate.statistic("p99.5") == 100.0
    assert aggregate.statistic("p0") == 1.0
    assert aggregate.statistic("p100") == 100.0


def test_weighted_values_count_in_percentiles_and_statistic_sets_do_not() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=None))
    store.put(
        "NS",
        [
            {
                "MetricName": "Latency",
                "Dimensions": DIMS,
                "Timestamp": NOW,
                "Values": [10.0, 1000.0],
                "Counts": [9.0, 1.0],
            }
        ],
        now=to_epoch(NOW),
    )
    store.put(
        "NS",
        [
            {
                "MetricName": "Latency",
                "Dimensions": DIMS,
                "Timestamp": NOW,
                "StatisticValues": {"SampleCount": 90.0, "Sum": 90000.0, "Minimum": 999.0, "Maximum": 1001.0},
            }
        ],
        now=to_epoch(NOW),
    )
    results = get_metric_data(
        StoreView([store]),
        [
            _stat_query("p50") | {"Id": "p50"},
            _stat_query("p95") | {"Id": "p95"},
            _stat_query("SampleCount") | {"Id": "n"},
            _stat_query("Average") | {"Id": "avg"},
        ],
        NOW - timedelta(minutes=1),
        NOW + timedelta(minutes=1),
    )
    by_id = {result["id"]: result["values"] for result in results}
    assert by_id["p50"] == [10.0]
    assert by_id["p95"] == [1000.0]
    assert by_id["n"] == [100.0]
    assert by_id["avg"] == [pytest.approx((90 + 1000 + 90000) / 100)]


def test_get_metric_data_periods_start_at_start_time() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=None))
    start = NOW - timedelta(minutes=10, seconds=17)
    for second in range(0, 600, 10):
        _put(store, 1.0, start + timedelta(seconds=second))
    results = get_metric_data(
        StoreView([store]), [_stat_query("SampleCount", period=120)], start, start + timedelta(minutes=10)
    )
    (result,) = results
    assert result["timestamps"] == [start + timedelta(seconds=120 * k) for k in range(5)]
    assert result["values"] == [12.0] * 5


def test_get_metric_data_descending_and_unit_filter() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=None))
    _put(store, 1.0, NOW - timedelta(minutes=3), Unit="Seconds")
    _put(store, 5.0, NOW - timedelta(minutes=2), Unit="Milliseconds")
    _put(store, 7.0, NOW - timedelta(minutes=1), Unit="Seconds")
    start = NOW - timedelta(minutes=5)
    (result,) = get_metric_data(
        StoreView([store]), [_stat_query("Sum", Unit="Seconds")], start, NOW, "TimestampDescending"
    )
    assert result["values"] == [7.0, 1.0]
    assert result["timestamps"][0] > result["timestamps"][1]


def test_get_metric_statistics_gives_extended_statistics_and_unit() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=None))
    for value in range(1, 11):
        _put(store, float(value), NOW - timedelta(seconds=30 - value), Unit="Milliseconds")
    (datapoint,) = get_metric_statistics(
        StoreView([store]),
        "NS",
        "Latency",
        NOW - timedelta(minutes=1),
        NOW,
        60,
        ["Maximum"],
        DIMS,
        extended_statistics=["p90"],
    )
    assert datapoint["Maximum"] == 10.0
    assert datapoint["ExtendedStatistics"] == {"p90": 9.0}
    assert datapoint["Unit"] == "Milliseconds"


def test_unsupported_statistics_and_bad_periods_are_clear_errors() -> None:
    with pytest.raises(UnsupportedStatisticError, match="tm90"):
        check_statistic("tm90")
    store = MetricStore()
    with pytest.raises(QueryError, match="Period must be a positive"):
        get_metric_data(StoreView([store]), [_stat_query("Sum", period=0)], NOW - timedelta(minutes=1), NOW)
    with pytest.raises(QueryError, match="ExtendedStatistics"):
        get_metric_statistics(
            StoreView([store]),
            "NS",
            "Latency",
            NOW - timedelta(minutes=1),
            NOW,
            60,
            [],
            [],
            extended_statistics=["Average"],
        )


def test_concurrent_puts_and_reads_lose_nothing() -> None:
    store = MetricStore(RetentionPolicy(retention_seconds=None))
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        rng = random.Random(worker)
        try:
            for _ in range(2000):
                _put(store, 1.0, NOW - timedelta(seconds=rng.randint(1, 3000)))
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(200):
                get_metric_data(
                    StoreView([store]), [_stat_query("SampleCount", period=300)], NOW - timedelta(hours=1), NOW
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)] + [
        threading.Thread(target=reader) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (series,) = store.by_name("NS", "Latency")
    assert len(series) == 8000
    assert list(series.timestamps) == sorted(series.timestamps)
    (result,) = get_metric_data(
        StoreView([store]), [_stat_query("SampleCount", period=3600)], NOW - timedelta(hours=1), NOW
    )
    assert sum(result["values"]) == 8000
