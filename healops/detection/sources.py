"""Reading a window of the fleet's telemetry: GetMetricData in batches, FilterLogEvents per service (bounded).

A service's log read starts at its own tick (the detector reads some services' logs later than their metrics:
healops/detection/runner.py schedules the reads) and says how far it got: every event up to the end of the
range, or, when the page bound cut it short, up to the tick of the last event read.

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

from botocore.exceptions import ClientError

from healops.fleet.clock import SimClock
from healops.models.metrics import SERVICE_METRICS

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
    log_services: int = 0  # services whose logs were read this run
    log_ticks_skipped: int = 0  # ticks of logs older than the window, never read (a service read too rarely)
    log_read_failures: list[str] = field(default_factory=list)  # throttled or failed: read again next run
    missing_log_groups: list[str] = field(default_factory=list)


@dataclass
class LogRead:
    """One service's log records by tick, and the last tick they cover (None: none; that tick may be partial when
    the page bound cut the read short: a storm is counted, not read in full)."""

    from_tick: int
    by_tick: dict[int, list[dict[str, Any]]]
    through_tick: int | None


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
    metrics: Sequence[str] = SERVICE_METRICS,
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
    since_tick: dict[str, int],
    last_tick: int,
    clock: SimClock,
    counts: ReadCounts,
) -> dict[str, LogRead]:
    """Per service in ``since_tick``: its records from the start of that tick to the end of ``last_tick``, in
    at most ``LOG_PAGES`` pages."""
    until_ms = int(real_seconds_of_tick(clock, last_tick + 1) * 1000) - 1

    def one(service: str) -> tuple[str, LogRead, int, str]:  # (service, read, calls, ok | missing | failed)
        group = f"{log_group_prefix.rstrip('/')}/{service}"
        first = since_tick[service]
        by_tick: dict[int, list[dict[str, Any]]] = {}
        calls, token, last_seen = 0, None, None
        try:
            for _ in range(LOG_PAGES):
                kwargs: dict[str, Any] = {
                    "logGroupName": group,
                    "startTime": int(real_seconds_of_tick(clock, first) * 1000),
                    "endTime": until_ms,
                    "limit": LOG_EVENTS_PER_PAGE,
                }
                if token:
                    kwargs["nextToken"] = token
                response = logs.filter_log_events(**kwargs)
                calls += 1
                for event in response.get("events", []):
                    tick = clock.tick_at(int(event["timestamp"]) / 1000.0)
                    last_seen = tick if last_seen is None else max(last_seen, tick)
                    record = parse_log_message(str(event.get("message", "")))
                    if record is not None:
                        by_tick.setdefault(tick, []).append(record)
                token = response.get("nextToken")
                if not token:
                    break
        except logs.exceptions.ResourceNotFoundException:
            # no log group (yet): nothing to read, and nothing will appear in these ticks later
            return service, LogRead(first, {}, last_tick), calls + 1, "missing"
        except ClientError as error:
            # throttled (FilterLogEvents has a small per-account rate) or failing: the logs are not lost, the
            # cursor stays and a later run reads them; the metrics of this run are scored without them
            code = error.response.get("Error", {}).get("Code", "")
            logger.warning("log read of %s failed (%s); it is read again in a later run", service, code)
            return service, LogRead(first, {}, None), calls + 1, "failed"
        if not token:
            return service, LogRead(first, by_tick, last_tick), calls, "ok"
        # cut short: the ticks before the last event's are complete, the last event's is taken as read so far
        through = last_seen if last_seen is not None else first - 1
        kept = {tick: records for tick, records in by_tick.items() if tick <= through}
        return service, LogRead(first, kept, through if through >= first else None), calls, "ok"

    found: dict[str, LogRead] = {}
    with ThreadPoolExecutor(LOG_WORKERS) as pool:
        for service, read, calls, outcome in pool.map(one, sorted(since_tick)):
            found[service] = read
            counts.filter_log_events_calls += calls
            counts.log_services += 1
            counts.log_events += sum(len(r) for r in read.by_tick.values())
            if outcome == "missing":
                counts.missing_log_groups.append(service)
            elif outcome == "failed":
                counts.log_read_failures.append(service)
    return found
