"""Alarm evaluation logic without a server: M of N, missing data, windows, time scale, wording."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from healops.local.cloudwatch.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    decide_state,
    evaluate_alarm,
    evaluation_windows,
    state_change_detail,
)
from healops.local.cloudwatch.expressions import ExpressionError, evaluate
from healops.local.cloudwatch.models import from_epoch
from healops.local.cloudwatch.queries import StoreView
from healops.local.cloudwatch.store import MetricStore, RetentionPolicy

GT = "GreaterThanThreshold"
BASE = 1_700_000_040.0  # a whole minute


@pytest.mark.parametrize(
    ("values", "m", "expected"),
    [
        ([90.0, 95.0, 99.0], 3, ALARM),
        ([90.0, 10.0, 99.0], 3, OK),
        ([90.0, 10.0, 99.0], 2, ALARM),
        ([10.0, 10.0, 99.0], 2, OK),
        ([10.0, 10.0, 10.0], 1, OK),
    ],
)
def test_m_out_of_n(values: list[float | None], m: int, expected: str) -> None:
    assert decide_state(values, 80.0, GT, m, "missing", OK) == expected


@pytest.mark.parametrize(
    ("treat", "values", "current", "expected"),
    [
        ("missing", [None, None, None], ALARM, INSUFFICIENT_DATA),
        ("ignore", [None, None, None], ALARM, ALARM),
        ("ignore", [None, None, None], OK, OK),
        ("breaching", [None, None, None], OK, ALARM),
        ("notBreaching", [None, None, None], ALARM, OK),
        ("missing", [99.0, None, 99.0], OK, ALARM),  # 2 present, both breach: M=2
        ("missing", [None, None, 10.0], ALARM, OK),
        ("breaching", [None, 10.0, 99.0], OK, ALARM),
        ("notBreaching", [None, 99.0, None], ALARM, OK),
        ("ignore", [None, 99.0, 99.0], OK, ALARM),
    ],
)
def test_treat_missing_data(treat: str, values: list[float | None], current: str, expected: str) -> None:
    assert decide_state(values, 80.0, GT, 2, treat, current) == expected


@pytest.mark.parametrize(
    ("operator", "value", "breaches"),
    [
        ("GreaterThanOrEqualToThreshold", 80.0, True),
        ("GreaterThanThreshold", 80.0, False),
        ("LessThanThreshold", 79.9, True),
        ("LessThanOrEqualToThreshold", 80.0, True),
        ("LessThanThreshold", 80.0, False),
    ],
)
def test_comparison_operators(operator: str, value: float, breaches: bool) -> None:
    assert decide_state([value], 80.0, operator, 1, "missing", OK) == (ALARM if breaches else OK)


def test_windows_are_aligned_complete_and_scaled() -> None:
    now = 1_000_000_123.4
    assert evaluation_windows(now, 60.0, 3) == [
        (999_999_900.0, 999_999_960.0),
        (999_999_960.0, 1_000_000_020.0),
        (1_000_000_020.0, 1_000_000_080.0),
    ]
    windows = evaluation_windows(now, 60.0, 3)
    assert windows[-1][1] <= now and now - windows[-1][1] < 60
    assert all(start % 60 == 0 and end - start == 60 for start, end in windows)
    scaled = evaluation_windows(now, 60.0 / 20, 3)
    assert all(end - start == 3.0 for start, end in scaled)
    assert scaled[-1][1] == 1_000_000_122.0


@dataclass
class FakeDimension:
    name: str
    value: str


@dataclass
class FakeAlarm:
    """The attributes of moto's Alarm the evaluator reads."""

    name: str = "cpu-high"
    namespace: str = "NS"
    metric_name: str = "CPU"
    dimensions: list[FakeDimension] = field(default_factory=lambda: [FakeDimension("Service", "checkout")])
    statistic: str | None = "Average"
    extended_statistic: str | None = None
    period: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int | None = 2
    threshold: float = 80.0
    comparison_operator: str = GT
    treat_missing_data: str | None = None
    unit: str | None = None
    evaluate_low_sample_count_percentile: str | None = None
    metric_data_queries: list[Any] = field(default_factory=list)
    state_value: str = INSUFFICIENT_DATA
    description: str = "CPU too high"
    alarm_arn: str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high"


def _store_with(points: list[tuple[float, float]]) -> StoreView:
    store = MetricStore(RetentionPolicy(retention_seconds=None))
    for stamp, value in points:
        store.put(
            "NS",
            [
                {
                    "MetricName": "CPU",
                    "Dimensions": [{"Name": "Service", "Value": "checkout"}],
                    "Timestamp": from_epoch(stamp),
                    "Value": value,
                }
            ],
        )
    return StoreView([store])


def test_evaluation_reads_the_store_and_explains_like_cloudwatch() -> None:
    now = BASE + 5  # 5 s into a minute
    base = BASE
    view = _store_with([(base - 170, 50.0), (base - 110, 95.0), (base - 50, 97.0), (base - 20, 99.0)])
    decision = evaluate_alarm(FakeAlarm(), view, now, 1.0)
    assert decision is not None and decision.state == ALARM
    assert decision.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [98.0 (")
    assert "were greater than the threshold (80.0)" in decision.reason
    assert "(minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition)" in decision.reason
    data = decision.reason_data
    assert data["statistic"] == "Average" and data["period"] == 60 and data["threshold"] == 80.0
    assert data["recentDatapoints"] == [50.0, 95.0, 98.0]
    assert [point["value"] for point in data["evaluatedDatapoints"]] == [98.0, 95.0, 50.0]
    json.dumps(data)


def test_no_decision_when_the_state_stays() -> None:
    view = _store_with([(BASE - 30, 10.0)])
    assert evaluate_alarm(FakeAlarm(state_value=OK, evaluation_periods=1), view, BASE + 1, 1.0) is None


def test_time_scale_shrinks_the_windows() -> None:
    base = BASE
    # Three breaching points one real second apart: three one-minute periods at time_scale 60.
    view = _store_with([(base - 2.5, 90.0), (base - 1.5, 91.0), (base - 0.5, 92.0)])
    unscaled = evaluate_alarm(FakeAlarm(datapoints_to_alarm=3), view, base + 0.1, 1.0)
    assert unscaled is not None and unscaled.state == OK  # all in one minute: 1 of 3 breaching
    scaled = evaluate_alarm(FakeAlarm(datapoints_to_alarm=3), view, base + 0.1, 60.0)
    assert scaled is not None and scaled.state == ALARM
    stamps = [point["timestamp"] for point in scaled.reason_data["evaluatedDatapoints"]]
    assert stamps[0].endswith("59.000+0000") and stamps[1].endswith("58.000+0000")


def test_insufficient_data_reason() -> None:
    decision = evaluate_alarm(FakeAlarm(state_value=OK), _store_with([]), BASE, 1.0)
    assert decision is not None and decision.state == INSUFFICIENT_DATA
    assert decision.reason == "Insufficient Data: 3 datapoints were unknown."


def test_percentile_alarm_with_low_sample_count_ignore_keeps_state() -> None:
    base = BASE
    view = _store_with([(base - 30, 500.0)])
    alarm = FakeAlarm(statistic=None, extended_statistic="p99", evaluation_periods=1, datapoints_to_alarm=1)
    assert evaluate_alarm(alarm, view, base + 1, 1.0).state == ALARM  # type: ignore[union-attr]
    alarm.evaluate_low_sample_count_percentile = "ignore"
    assert evaluate_alarm(alarm, view, base + 1, 1.0) is None


@dataclass
class FakeMetric:
    namespace: str
    metric_name: str
    dimensions: list[FakeDimension]


@dataclass
class FakeMetricStat:
    metric: FakeMetric
    period: int
    stat: str
    unit: str | None = None


@dataclass
class FakeQuery:
    id: str
    expression: str | None = None
    metric_stat: FakeMetricStat | None = None
    return_data: str | None = None
    label: str | None = None


def test_metric_math_alarm() -> None:
    base = BASE
    view = _store_with([(base - 30, 40.0)])
    metric = FakeMetric("NS", "CPU", [FakeDimension("Service", "checkout")])
    alarm = FakeAlarm(
        statistic=None,
        period=None,  # type: ignore[arg-type]
        evaluation_periods=1,
        datapoints_to_alarm=1,
        metric_data_queries=[
            FakeQuery("m1", metric_stat=FakeMetricStat(metric, 60, "Sum"), return_data="false"),
            FakeQuery("e1", expression="m1 * 3", return_data="true"),
        ],
    )
    decision = evaluate_alarm(alarm, view, base + 1, 1.0)
    assert decision is not None and decision.state == ALARM
    assert decision.reason_data["recentDatapoints"] == [120.0]
    metrics = state_change_detail(alarm, {}, {})["configuration"]["metrics"]
    assert [entry["id"] for entry in metrics] == ["m1", "e1"]
    assert metrics[0]["metricStat"]["metric"] == {
        "namespace": "NS",
        "name": "CPU",
        "dimensions": {"Service": "checkout"},
    }


def test_state_change_detail_shape() -> None:
    alarm = FakeAlarm()
    detail = state_change_detail(alarm, {"value": "OK"}, {"value": "ALARM"})
    assert detail["alarmName"] == "cpu-high"
    assert detail["configuration"]["description"] == "CPU too high"
    (metric,) = detail["configuration"]["metrics"]
    assert metric["metricStat"] == {
        "metric": {"namespace": "NS", "name": "CPU", "dimensions": {"Service": "checkout"}},
        "period": 60,
        "stat": "Average",
    }
    assert metric["returnData"] is True


T0 = datetime(2025, 1, 1)


def _series(*values: float | None) -> dict[datetime, float]:
    return {T0 + timedelta(minutes=k): v for k, v in enumerate(values) if v is not None}


def test_metric_math_arithmetic_and_functions() -> None:
    results = {"a": _series(1.0, 2.0, 3.0), "b": _series(10.0, None, 30.0)}
    grid = [T0 + timedelta(minutes=k) for k in range(3)]
    assert evaluate("a", results, grid) == results["a"]
    assert evaluate("a + b * 2", results, grid) == _series(21.0, None, 63.0)
    assert evaluate("-(a - 4) / 2", results, grid) == _series(1.5, 1.0, 0.5)
    assert evaluate("SUM([a, b])", results, grid) == _series(11.0, 2.0, 33.0)
    assert evaluate("MAX(METRICS())", results, grid) == _series(10.0, 2.0, 30.0)
    assert evaluate("AVG(a)", results, grid) == dict.fromkeys(grid, 2.0)
    assert evaluate("FILL(b, 0)", results, grid) == _series(10.0, 0.0, 30.0)
    assert evaluate("FILL(b, REPEAT)", results, grid) == _series(10.0, 10.0, 30.0)
    assert evaluate("a / (a - 2)", results, grid) == _series(-1.0, None, 3.0)


@pytest.mark.parametrize("expression", ["a +", "nope * 2", "RATE(a)", "a $ b", "[a, b]"])
def test_bad_metric_math_is_a_clear_error(expression: str) -> None:
    with pytest.raises(ExpressionError, match="metric math"):
        evaluate(expression, {"a": _series(1.0), "b": _series(2.0)}, [T0])
