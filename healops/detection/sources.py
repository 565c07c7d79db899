"""Reading a window of the fleet's telemetry: GetMetricData in batches, FilterLogEvents per service (bounded).

Metric timestamps are real time; a tick of the simulated clock lasts ``tick_seconds / time_scale`` real seconds,
which is the query period, and each returned bucket maps back to its tick.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from healops.fleet.clock import SimClock
from healops.fleet.telemetry import METRIC_UNITS

logger = logging.getLogger(__name__)

QUERIES_PER_CALL = 500  # GetMetricData's limit
LOG_EVENTS_PER_PAGE = 100
LOG_PAGES = 2  # per service and run: a storm is counted, not read in full
MAX_LOG_MESSAGE = 4000  # characters of a log message parsed (logs are untrusted)
LOG_WORKERS = 8


@dataclass
class ReadCounts:
    get_metric_data_calls: int = 0
    filter_log_events_calls: int = 0
    datapoints: int = 0
    log_events: int = 0
    missing_log_groups: list[str] = field(default_factory=list)


def real_seconds_of_tick(clock: SimClock, tick: int) -> float:
    return tick * clock.tick_seconds / clock.time_scale


def read_metrics(
    cloudwatch: Any,
    namespace: str,
    services: Sequence[str],
    clock: SimClock,
    first_tick: int,
    last_tick: int,
    counts: ReadCounts,
    metrics: Sequence[str] = tuple(METRIC_UNITS),
) -> dict[str, dict[int, dict[str, float]]]:
    """service -> tick -> metric -> value (the Average of the tick's bucket), for ticks first..last."""
    period = max(1, round(clock.tick_seconds / clock.time_scale))
    start = datetime.fromtimestamp(real_seconds_of_tick(clock, first_tick), UTC)
    end = datetime.fromtimestamp(real_seconds_of_tick(clock, last_tick + 1), UTC)
    queries = [
        (f"q{i}", service, metric) for i, (service, metric) in enumerate((s, m) for s in services for m in metrics)
    ]
    by_id = {qid: (service, metric) for qid, service, metric in queries}
    found: dict[str, dict[int, dict[str, float]]] = {s: {} for s in services}
    for at in range(0, len(queries), QUERIES_PER_CALL):
        batch = [
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        "Dimensions": [{"Name": "Service", "Value": service}],
                    },
                    "Period": period,
                    "Stat": "Average",
                },
                "ReturnData": True,
            }
            for qid, service, metric in queries[at : at + QUERIES_PER_CALL]
        ]
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MetricDataQueries": batch, "StartTime": start, "EndTime": end}
            if token:
                kwargs["NextToken"] = token
            response = cloudwatch.get_metric_data(**kwargs)
            counts.get_metric_data_calls += 1
            for result in response.get("MetricDataResults", []):
                service, metric = by_id[result["Id"]]
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    tick = clock.tick_at(stamp.timestamp() + 1e-6)
                    if first_tick <= tick <= last_tick:
                        found[service].setdefault(tick, {})[metric] = float(value)
                        counts.datapoints += 1
            token = response.get("NextToken")
            if not token:
                break
    return found


def parse_log_message(message: str) -> dict[str, Any] | None:
    """A service's JSON log record, or None: only a bounded prefix is parsed, and only a JSON object counts."""
    if len(message) > MAX_LOG_MESSAGE:
        return None
    try:
        record = json.loads(message)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def read_logs(
    logs: Any,
    log_group_prefix: str,
    services: Sequence[str],
    clock: SimClock,
    since_ms: dict[str, int],
    until_ms: int,
    counts: ReadCounts,
) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """service -> tick -> records, for events after ``since_ms[service]`` up to ``until_ms`` (bounded pages)."""

    def one(service: str) -> tuple[str, dict[int, list[dict[str, Any]]], int, bool]:
        group = f"{log_group_prefix.rstrip('/')}/{service}"
        by_tick: dict[int, list[dict[str, Any]]] = {}
        calls, token = 0, None
        try:
            for _ in range(LOG_PAGES):
                kwargs: dict[str, Any] = {
                    "logGroupName": group,
                    "startTime": since_ms[service],
                    "endTime": until_ms,
                    "limit": LOG_EVENTS_PER_PAGE,
                }
                if token:
                    kwargs["nextToken"] = token
                response = logs.filter_log_events(**kwargs)
                calls += 1
                for event in response.get("events", []):
                    record = parse_log_message(str(event.get("message", "")))
                    if record is not None:
                        by_tick.setdefault(clock.tick_at(int(event["timestamp"]) / 1000.0), []).append(record)
                token = response.get("nextToken")
                if not token:
                    break
        except logs.exceptions.ResourceNotFoundException:
            return service, {}, calls + 1, False
        return service, by_tick, calls, True

    found: dict[str, dict[int, list[dict[str, Any]]]] = {}
    with ThreadPoolExecutor(LOG_WORKERS) as pool:
        for service, by_tick, calls, exists in pool.map(one, services):
            found[service] = by_tick
            counts.filter_log_events_calls += calls
            counts.log_events += sum(len(r) for r in by_tick.values())
            if not exists:
                counts.missing_log_groups.append(service)
    return found
