"""The small, named replacements of moto's CloudWatch methods.

Installed once per process (moto's classes are process-global); each replacement looks at
:data:`_active`, the settings of the embedded cloud now running, and hands the call back to
moto's original method when no cloud is active, so a plain moto in the same process (the
decorator mock in a unit test) behaves as moto.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from healops.local.cloudwatch import queries as store_queries
from healops.local.cloudwatch.notify import history_of, on_state_change, record_history
from healops.local.cloudwatch.store import MetricStore, RetentionPolicy, store_from_datums

logger = logging.getLogger(__name__)

STORE_ATTRIBUTE = "_healops_metric_store"


@dataclass
class ActiveSettings:
    """What the patches need from the running extension."""

    policy: RetentionPolicy
    time_scale: float = 1.0


_active: ActiveSettings | None = None
_originals: dict[str, Any] = {}
_store_lock = threading.Lock()


def activate(settings: ActiveSettings | None) -> None:
    global _active
    _active = settings


def store_of(backend: Any) -> MetricStore:
    """The backend's metric store, created on first use (moto's ``reset`` drops it with the rest)."""
    store = backend.__dict__.get(STORE_ATTRIBUTE)
    if store is None:
        with _store_lock:
            store = backend.__dict__.get(STORE_ATTRIBUTE)
            if store is None:
                policy = _active.policy if _active is not None else RetentionPolicy()
                store = backend.__dict__[STORE_ATTRIBUTE] = MetricStore(policy)
    return store


def view_of(backend: Any) -> store_queries.StoreView:
    stores = [store_of(backend)]
    provided = backend.aws_metric_data  # metrics moto computes on the fly (S3 bucket sizes)
    if provided:
        stores.append(store_from_datums(provided))
    return store_queries.StoreView(stores)


def _raise_moto_error(exc: store_queries.QueryError) -> None:
    from moto.cloudwatch.exceptions import InvalidParameterValue, ValidationError

    if exc.code == "ValidationError":
        raise ValidationError(str(exc)) from None
    raise InvalidParameterValue(str(exc)) from None


# ---------------------------------------------------------------- backend: metrics
def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
    if _active is None:
        return _originals["put_metric_data"](self, namespace, metric_data)
    for number, member in enumerate(metric_data, start=1):
        self._validate_parameters_put_metric_data(member, number)
    store_of(self).put(namespace, metric_data)
    return None


def get_metric_data(
    self: Any,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    if _active is None:
        return _originals["get_metric_data"](self, queries, start_time, end_time, scan_by)
    try:
        return store_queries.get_metric_data(view_of(self), queries, start_time, end_time, scan_by)
    except store_queries.QueryError as exc:
        _raise_moto_error(exc)
        raise


def get_metric_statistics(
    self: Any,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
    extended_statistics: list[str] | None = None,
) -> list[Any]:
    if _active is None:
        return _originals["get_metric_statistics"](
            self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit
        )
    try:
        return store_queries.get_metric_statistics(
            view_of(self),
            namespace,
            metric_name,
            start_time,
            end_time,
            period,
            stats,
            dimensions,
            unit,
            extended_statistics,
        )
    except store_queries.QueryError as exc:
        _raise_moto_error(exc)
        raise


def list_metrics(
    self: Any,
    next_token: str | None,
    namespace: str,
    metric_name: str,
    dimensions: list[dict[str, str]],
    recently_active: str | None = None,
) -> tuple[str | None, list[Any]]:
    if _active is None:
        return _originals["list_metrics"](self, next_token, namespace, metric_name, dimensions)
    if next_token:
        return _originals["list_metrics"](self, next_token, namespace, metric_name, dimensions)
    try:
        listed = store_queries.list_metrics(view_of(self), namespace, metric_name, dimensions, recently_active)
    except store_queries.QueryError as exc:
        _raise_moto_error(exc)
        raise
    return self._get_paginated(listed)


# ---------------------------------------------------------------- backend: alarms
def put_metric_alarm(self: Any, *args: Any, **kwargs: Any) -> Any:
    if _active is None:
        return _originals["put_metric_alarm"](self, *args, **kwargs)
    name = kwargs.get("name", args[0] if args else None)
    previous = self.alarms.get(name)
    alarm = _originals["put_metric_alarm"](self, *args, **kwargs)
    if previous is not None:
        # An update keeps the state and history, as in CloudWatch; moto builds a fresh object.
        alarm.state_value = previous.state_value
        alarm.state_reason = previous.state_reason
        alarm.state_reason_data = previous.state_reason_data
        alarm.state_updated_timestamp = previous.state_updated_timestamp
        history_of(alarm).extend(history_of(previous))
        record_history(alarm, "ConfigurationUpdate", f'Alarm "{name}" updated', {"type": "Update"})
    else:
        # CloudWatch starts every new alarm in INSUFFICIENT_DATA (moto says OK).
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_reason = "Unchecked: Initial alarm creation"
        record_history(alarm, "ConfigurationUpdate", f'Alarm "{name}" created', {"type": "Create"})
    return alarm


def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
    alarm = self.alarms.get(alarm_name)
    old = (
        (alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp)
        if alarm is not None
        else None
    )
    _originals["set_alarm_state"](self, alarm_name, reason, reason_data, state_value)
    if _active is None or old is None or old[0] == state_value:
        return
    on_state_change(self.account_id, self.region_name, self.alarms[alarm_name], old)


# ---------------------------------------------------------------- responses
def response_get_metric_statistics(self: Any) -> Any:
    from moto.cloudwatch.exceptions import InvalidParameterCombination
    from moto.core.responses import ActionResult

    statistics = self._get_param("Statistics", [])
    extended = self._get_param("ExtendedStatistics", [])
    if not statistics and not extended:
        raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
    metric_name = self._get_param("MetricName")
    datapoints = self.cloudwatch_backend.get_metric_statistics(
        self._get_param("Namespace"),
        metric_name,
        self._get_param("StartTime"),
        self._get_param("EndTime"),
        self._get_int_param("Period"),
        statistics,
        self._get_param("Dimensions", []),
        self._get_param("Unit"),
        extended,
    )
    return ActionResult({"Label": metric_name, "Datapoints": datapoints})


def response_list_metrics(self: Any) -> Any:
    from moto.core.responses import ActionResult

    next_token, metrics = self.cloudwatch_backend.list_metrics(
        self._get_param("NextToken"),
        self._get_param("Namespace"),
        self._get_param("MetricName"),
        self._get_params().get("Dimensions", []),
        self._get_param("RecentlyActive"),
    )
    return ActionResult({"Metrics": metrics, "NextToken": next_token})


def response_describe_alarm_history(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.cloudwatch_backend
    name = self._get_param("AlarmName")
    item_type = self._get_param("HistoryItemType")
    types = self._get_param("AlarmTypes") or []
    start = self._get_param("StartDate")
    end = self._get_param("EndDate")
    alarms = [backend.alarms[name]] if name in backend.alarms else ([] if name else list(backend.alarms.values()))
    items = [item for alarm in alarms for item in history_of(alarm)]
    items = [
        item
        for item in items
        if (not item_type or item["HistoryItemType"] == item_type)
        and (not types or item["AlarmType"] in types)
        and (start is None or item["Timestamp"] >= _naive(start))
        and (end is None or item["Timestamp"] <= _naive(end))
    ]
    items.sort(key=lambda item: item["Timestamp"], reverse=self._get_param("ScanBy") != "TimestampAscending")
    limit = self._get_int_param("MaxRecords") or 100
    return ActionResult({"AlarmHistoryItems": items[:limit]})


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def install() -> None:
    """Patch moto's classes once per process."""
    if _originals:
        return
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    replacements = {
        "put_metric_data": put_metric_data,
        "get_metric_data": get_metric_data,
        "get_metric_statistics": get_metric_statistics,
        "list_metrics": list_metrics,
        "put_metric_alarm": put_metric_alarm,
        "set_alarm_state": set_alarm_state,
    }
    for attribute, replacement in replacements.items():
        _originals[attribute] = getattr(CloudWatchBackend, attribute)
        setattr(CloudWatchBackend, attribute, replacement)
    CloudWatchResponse.get_metric_statistics = response_get_metric_statistics
    CloudWatchResponse.list_metrics = response_list_metrics
    CloudWatchResponse.describe_alarm_history = response_describe_alarm_history
