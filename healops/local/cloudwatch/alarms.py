"""Metric alarm evaluation: which periods, which values, which state, and why.

Periods and time scale: an alarm with ``Period`` P seconds, evaluated in an embedded cloud
running with ``time_scale`` s, looks at windows of ``w = P / s`` *real* seconds. Windows are
aligned to multiples of ``w`` since the Unix epoch (as CloudWatch aligns periods to the clock),
and only complete windows count: at real time ``t`` the newest window is
``[floor(t / w) * w - w, floor(t / w) * w)`` and the alarm evaluates that one and the
``EvaluationPeriods - 1`` before it. Metric timestamps are never rescaled: a metric put at
real time ``t`` lands in the window containing ``t``. So with ``time_scale=60`` a one-minute
alarm period covers one real second of data, and "3 out of 5 one-minute periods" means 3 of
the last 5 whole real seconds.

States follow CloudWatch: ALARM when at least ``DatapointsToAlarm`` (M, default
``EvaluationPeriods`` N) of the N windows breach; OK otherwise. Missing windows (no data)
depend on ``TreatMissingData``:

- ``missing`` (default): missing windows are left out; if all N are missing the alarm goes
  to INSUFFICIENT_DATA;
- ``ignore``: like ``missing``, but all N missing keeps the current state;
- ``breaching``: a missing window counts as breaching;
- ``notBreaching``: a missing window counts as within the threshold.

(CloudWatch also widens its look-back when data is missing, its "evaluation range"; this
evaluator does not.) A percentile alarm with ``EvaluateLowSampleCountPercentile: ignore``
keeps its state while a window holds fewer than ``10 / (1 - p)`` samples.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from healops.local.cloudwatch.expressions import ExpressionError, evaluate
from healops.local.cloudwatch.models import (
    Aggregate,
    UnsupportedStatisticError,
    check_statistic,
    from_epoch,
    percentile_of,
)
from healops.local.cloudwatch.queries import bucket

if TYPE_CHECKING:
    from healops.local.cloudwatch.queries import StoreView

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"

COMPARISONS: dict[str, tuple[str, Any]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
TREAT_MISSING = ("missing", "ignore", "breaching", "notBreaching")


class UnsupportedAlarmError(ValueError):
    """An alarm this evaluator cannot evaluate (it is left in its state and logged once)."""


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    value: float | None
    sample_count: float


@dataclass(frozen=True)
class Decision:
    """The outcome of one evaluation: the state, and what to say about it."""

    state: str
    reason: str
    reason_data: dict[str, Any]


def evaluation_windows(now: float, window_seconds: float, count: int) -> list[tuple[float, float]]:
    """The ``count`` newest complete windows before ``now``, oldest first (see module docstring)."""
    end = math.floor(now / window_seconds) * window_seconds
    return [(end - (count - k) * window_seconds, end - (count - k - 1) * window_seconds) for k in range(count)]


def classify(values: list[float | None], threshold: float, operator: str, treat_missing: str) -> list[bool | None]:
    """Per window: True breaching, False within threshold, None missing (after treat_missing)."""
    _words, compare = COMPARISONS[operator]
    verdicts: list[bool | None] = []
    for value in values:
        if value is None:
            verdicts.append(
                True if treat_missing == "breaching" else False if treat_missing == "notBreaching" else None
            )
        else:
            verdicts.append(bool(compare(value, threshold)))
    return verdicts


def decide_state(
    values: list[float | None],
    threshold: float,
    operator: str,
    datapoints_to_alarm: int,
    treat_missing: str,
    current_state: str,
) -> str:
    """The state ``values`` (oldest first, None = no data) put the alarm in."""
    verdicts = classify(values, threshold, operator, treat_missing)
    present = [verdict for verdict in verdicts if verdict is not None]
    if not present:
        return current_state if treat_missing == "ignore" else INSUFFICIENT_DATA
    return ALARM if sum(present) >= datapoints_to_alarm else OK


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _short(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%m/%y %H:%M:%S")


def _number(value: float) -> str:
    return repr(float(value))


def explain(
    alarm: Any,
    windows: list[Window],
    new_state: str,
    old_state: str,
    now: float,
    datapoints_to_alarm: int,
    treat_missing: str,
) -> Decision:
    """StateReason and StateReasonData in CloudWatch's wording and JSON shape."""
    present = [window for window in windows if window.value is not None]
    newest_first = sorted(present, key=lambda w: w.start, reverse=True)
    statistic = alarm.extended_statistic or alarm.statistic
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": _iso(now),
        "startDate": _iso(windows[0].start) if windows else _iso(now),
        "period": int(alarm.period) if alarm.period else None,
        "recentDatapoints": [w.value for w in present],
        "threshold": float(alarm.threshold) if alarm.threshold is not None else None,
        "evaluatedDatapoints": [
            {"timestamp": _iso(w.start), "sampleCount": w.sample_count, "value": w.value} for w in newest_first
        ],
    }
    if alarm.extended_statistic:
        data["extendedStatistic"] = statistic
    elif statistic:
        data["statistic"] = statistic
    if alarm.unit:
        data["unit"] = alarm.unit
    data = {key: value for key, value in data.items() if value is not None}
    if new_state == INSUFFICIENT_DATA:
        missing = len(windows) - len(present)
        noun = "datapoint was" if missing == 1 else "datapoints were"
        return Decision(new_state, f"Insufficient Data: {missing} {noun} unknown.", data)
    words, _compare = COMPARISONS[alarm.comparison_operator]
    verdicts = classify([w.value for w in windows], float(alarm.threshold), alarm.comparison_operator, treat_missing)
    wanted = new_state == ALARM
    matching = [w for w, verdict in zip(windows, verdicts, strict=True) if verdict is wanted]
    shown = sorted([w for w in matching if w.value is not None], key=lambda w: w.start, reverse=True)
    listed = ", ".join(f"{_number(w.value)} ({_short(w.start)})" for w in shown)  # type: ignore[arg-type]
    verb = "was" if len(matching) == 1 else "were"
    relation = words if new_state == ALARM else f"not {words}"
    minimum = datapoints_to_alarm if new_state == ALARM else 1
    plural = "datapoint" if minimum == 1 else "datapoints"
    reason = (
        f"Threshold Crossed: {len(matching)} out of the last {len(windows)} datapoints [{listed}] {verb} "
        f"{relation} the threshold ({_number(alarm.threshold)}) "
        f"(minimum {minimum} {plural} for {old_state} -> {new_state} transition)."
    )
    if any(w.value is None for w in matching):
        reason = reason.replace("datapoints [", "datapoints (missing data treated as " + treat_missing + ") [", 1)
    return Decision(new_state, reason, data)


def _low_sample_count(stat: str, windows: list[Window]) -> bool:
    rank = percentile_of(stat)
    if rank is None or rank >= 100:
        return False
    needed = math.ceil(10 / (1 - rank / 100))
    return any(window.value is not None and window.sample_count < needed for window in windows)


def _windows_for_metric(
    view: StoreView,
    namespace: str,
    metric_name: str,
    dimensions: list[dict[str, str]],
    unit: str | None,
    stat: str,
    spans: list[tuple[float, float]],
) -> list[Window]:
    found = view.by_metric(namespace, metric_name, dimensions)
    if unit:
        found = [(store, series) for store, series in found if series.unit == unit]
    width = spans[0][1] - spans[0][0]
    buckets = bucket(found, spans[0][0], spans[0][0], spans[-1][1], width, percentile_of(stat) is not None)
    windows = []
    for number, (start, end) in enumerate(spans):
        aggregate = buckets.get(number, Aggregate())
        windows.append(Window(start, end, aggregate.statistic(stat), aggregate.sample_count))
    return windows


def _dimension_dicts(dimensions: list[Any]) -> list[dict[str, str]]:
    return [{"Name": d.name, "Value": d.value} for d in dimensions]


def alarm_windows(alarm: Any, view: StoreView, now: float, time_scale: float) -> list[Window]:
    """The values of the alarm's N newest complete windows, oldest first."""
    count = int(alarm.evaluation_periods or 1)
    if alarm.metric_data_queries:
        return _metric_math_windows(alarm, view, now, time_scale, count)
    stat = alarm.extended_statistic or alarm.statistic
    if not stat or not alarm.period:
        raise UnsupportedAlarmError("alarm has no Statistic/ExtendedStatistic or no Period")
    try:
        check_statistic(stat)
    except UnsupportedStatisticError as exc:
        raise UnsupportedAlarmError(str(exc)) from None
    spans = evaluation_windows(now, float(alarm.period) / time_scale, count)
    return _windows_for_metric(
        view, alarm.namespace, alarm.metric_name, _dimension_dicts(alarm.dimensions), alarm.unit, stat, spans
    )


def _metric_math_windows(alarm: Any, view: StoreView, now: float, time_scale: float, count: int) -> list[Window]:
    stat_queries = [q for q in alarm.metric_data_queries if q.metric_stat is not None]
    if not stat_queries:
        raise UnsupportedAlarmError("metric math alarm without a MetricStat query")
    period = float(stat_queries[0].metric_stat.period or alarm.period or 60)
    spans = evaluation_windows(now, period / time_scale, count)
    series: dict[str, dict[datetime, float]] = {}
    samples: dict[datetime, float] = {}
    for query in stat_queries:
        metric = query.metric_stat.metric
        windows = _windows_for_metric(
            view,
            metric.namespace,
            metric.metric_name,
            _dimension_dicts(metric.dimensions),
            query.metric_stat.unit,
            query.metric_stat.stat,
            spans,
        )
        series[query.id] = {from_epoch(w.start): w.value for w in windows if w.value is not None}
        for w in windows:
            samples[from_epoch(w.start)] = samples.get(from_epoch(w.start), 0.0) + w.sample_count
    grid = [from_epoch(start) for start, _end in spans]
    for query in alarm.metric_data_queries:
        if query.expression:
            try:
                series[query.id] = evaluate(query.expression, series, grid)
            except ExpressionError as exc:
                raise UnsupportedAlarmError(str(exc)) from None
    returned = [q for q in alarm.metric_data_queries if str(q.return_data).lower() not in ("false", "0")]
    chosen = returned[-1] if returned else alarm.metric_data_queries[-1]
    values = series.get(chosen.id, {})
    return [
        Window(start, end, values.get(stamp), samples.get(stamp, 0.0))
        for (start, end), stamp in zip(spans, grid, strict=True)
    ]


def evaluate_alarm(alarm: Any, view: StoreView, now: float, time_scale: float) -> Decision | None:
    """The decision for ``alarm`` at real time ``now``; None when its state must stay as is."""
    if alarm.comparison_operator not in COMPARISONS:
        raise UnsupportedAlarmError(
            f"comparison operator {alarm.comparison_operator!r} is not evaluated (anomaly-detection "
            f"bands are not supported); supported: {', '.join(COMPARISONS)}"
        )
    treat_missing = alarm.treat_missing_data or "missing"
    if treat_missing not in TREAT_MISSING:
        raise UnsupportedAlarmError(f"TreatMissingData {treat_missing!r}; supported: {', '.join(TREAT_MISSING)}")
    windows = alarm_windows(alarm, view, now, time_scale)
    stat = alarm.extended_statistic or alarm.statistic or ""
    if (alarm.evaluate_low_sample_count_percentile or "evaluate") == "ignore" and _low_sample_count(stat, windows):
        return None
    count = len(windows)
    to_alarm = int(alarm.datapoints_to_alarm or count)
    state = decide_state(
        [w.value for w in windows],
        float(alarm.threshold),
        alarm.comparison_operator,
        to_alarm,
        treat_missing,
        alarm.state_value,
    )
    if state == alarm.state_value:
        return None
    return explain(alarm, windows, state, alarm.state_value, now, to_alarm, treat_missing)


def metrics_configuration(alarm: Any) -> list[dict[str, Any]]:
    """``detail.configuration.metrics`` of the state-change event, as CloudWatch writes it."""

    def metric_stat(namespace: str, name: str, dimensions: list[Any], period: Any, stat: str) -> dict[str, Any]:
        return {
            "metric": {
                "namespace": namespace,
                "name": name,
                "dimensions": {d.name: d.value for d in dimensions},
            },
            "period": int(period) if period else None,
            "stat": stat,
        }

    if not alarm.metric_data_queries:
        return [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)),
                "metricStat": metric_stat(
                    alarm.namespace,
                    alarm.metric_name,
                    alarm.dimensions,
                    alarm.period,
                    alarm.extended_statistic or alarm.statistic,
                ),
                "returnData": True,
            }
        ]
    described = []
    for query in alarm.metric_data_queries:
        entry: dict[str, Any] = {"id": query.id, "returnData": str(query.return_data).lower() not in ("false", "0")}
        if query.label:
            entry["label"] = query.label
        if query.expression:
            entry["expression"] = query.expression
        if query.metric_stat is not None:
            ms = query.metric_stat
            entry["metricStat"] = metric_stat(
                ms.metric.namespace, ms.metric.metric_name, ms.metric.dimensions, ms.period, ms.stat
            )
        described.append(entry)
    return described


def state_change_detail(alarm: Any, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``detail`` of the "CloudWatch Alarm State Change" event."""
    configuration: dict[str, Any] = {"metrics": metrics_configuration(alarm)}
    if alarm.description:
        configuration["description"] = alarm.description
    return {
        "alarmName": alarm.name,
        "state": new,
        "previousState": old,
        "configuration": configuration,
    }


def state_snapshot(value: str, reason: str, reason_data: str | None, at: datetime) -> dict[str, Any]:
    """One of ``state`` / ``previousState`` in the event."""
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    snapshot: dict[str, Any] = {"value": value, "reason": reason, "timestamp": _iso(moment.timestamp())}
    if reason_data and reason_data != "{}":
        snapshot["reasonData"] = reason_data
    return snapshot
