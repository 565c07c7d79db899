"""One tick of the fleet's telemetry: read the fleet, model the tick, ship metrics, logs, archives.

The numbers come from :func:`healops.fleet.telemetry.fleet_tick` (pure); this module only moves
them: PutMetricData in batches of up to 1,000 datapoints (CloudWatch's limit per call, which the
embedded cloud accepts too), one PutLogEvents per service log group (creating the day's stream
on first use; a service without a log group is counted, not an error), the tick's records to
the hourly archives, and benign deploys back to the fleet table (conditional writes).
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from healops.fleet.archive import HourlyArchive
from healops.fleet.clock import SimClock
from healops.fleet.telemetry import ServiceTick, fleet_tick
from healops.models.metrics import METRIC_UNITS
from healops.store.base import ConditionFailedError
from healops.store.fleet import FleetRepository
from healops.timing import PhaseTimer

logger = logging.getLogger(__name__)

DATAPOINTS_PER_CALL = 1000
LOG_WORKERS = 8


@dataclass
class TickReport:
    tick: int
    at: str
    services: int
    datapoints: int = 0
    put_metric_calls: int = 0
    log_events: int = 0
    log_calls: int = 0
    log_groups_missing: list[str] = field(default_factory=list)
    deploys: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        answer = asdict(self)
        answer["log_groups_missing"] = len(self.log_groups_missing)
        return answer


def metric_datums(ticks: list[ServiceTick], at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "Service", "Value": t.service}],
            "Timestamp": at,
            "Value": value,
            "Unit": METRIC_UNITS[name],
        }
        for t in ticks
        for name, value in t.metrics.items()
    ]


class MetricsGenerator:
    def __init__(
        self,
        fleet: FleetRepository,
        cloudwatch: Any,
        logs: Any,
        namespace: str,
        log_group_prefix: str,
        clock: SimClock,
        seed: int,
        metric_archive: HourlyArchive | None = None,
        log_archive: HourlyArchive | None = None,
    ) -> None:
        self.fleet = fleet
        self.cloudwatch = cloudwatch
        self.logs = logs
        self.namespace = namespace
        self.log_group_prefix = log_group_prefix.rstrip("/")
        self.clock = clock
        self.seed = seed
        self.metric_archive = metric_archive
        self.log_archive = log_archive

    def run(self, at: datetime) -> TickReport:
        tick = self.clock.tick_of(at)
        timer = PhaseTimer(digits=4)
        with timer("read_fleet"):
            states = self.fleet.all()
        with timer("model"):
            ticks = fleet_tick(states, self.seed, tick, self.clock.tick_seconds, at_ms=int(at.timestamp() * 1000))
        report = TickReport(tick=tick, at=at.isoformat(), services=len(ticks))
        with timer("put_metric_data"):
            datums = metric_datums(ticks, at)
            for start in range(0, len(datums), DATAPOINTS_PER_CALL):
                self.cloudwatch.put_metric_data(
                    Namespace=self.namespace, MetricData=datums[start : start + DATAPOINTS_PER_CALL]
                )
                report.put_metric_calls += 1
            report.datapoints = len(datums)
        with timer("put_log_events"):
            self._ship_logs(ticks, at, report)
        with timer("deploys"):
            by_name = {s.service: s for s in states}
            for t in ticks:
                if t.deployed_version:
                    self._deploy(by_name[t.service], t.deployed_version, report)
        with timer("archive"):
            self._archive(ticks, at, report)
        report.seconds = timer.seconds
        return report

    def _ship_logs(self, ticks: list[ServiceTick], at: datetime, report: TickReport) -> None:
        stream = f"{at:%Y/%m/%d}/fleet"

        def put(t: ServiceTick) -> tuple[str, int, bool]:
            if not t.logs:
                return t.service, 0, True
            group = f"{self.log_group_prefix}/{t.service}"
            events = [{"timestamp": r["epoch_ms"], "message": json.dumps(r, separators=(",", ":"))} for r in t.logs]
            for attempt in range(2):
                try:
                    self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
                    return t.service, len(events), True
                except self.logs.exceptions.ResourceNotFoundException:
                    if attempt:
                        raise
                    try:
                        self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
                    except self.logs.exceptions.ResourceAlreadyExistsException:
                        pass
                    except self.logs.exceptions.ResourceNotFoundException:
                        return t.service, 0, False  # no log group for this service
            return t.service, 0, False

        with ThreadPoolExecutor(LOG_WORKERS) as pool:
            for service, written, has_group in pool.map(put, ticks):
                if not has_group:
                    report.log_groups_missing.append(service)
                elif written:
                    report.log_events += written
                    report.log_calls += 1

    def _deploy(self, state: Any, version: str, report: TickReport) -> None:
        update = {
            "previous_version": state.version,
            "version": version,
            "updated_at": datetime.now(UTC).isoformat(),
            "deployed_at": datetime.now(UTC).isoformat(),
            "last_action": "deploy",
        }
        try:
            self.fleet.replace(state.model_copy(update=update), state.record_version)
            report.deploys.append(f"{state.service}:{version}")
        except ConditionFailedError:
            logger.info("deploy skipped: the service changed meanwhile", extra={"service": state.service})

    def _archive(self, ticks: list[ServiceTick], at: datetime, report: TickReport) -> None:
        if self.metric_archive is not None:
            rows = [{"at": at.isoformat(), "tick": t.tick, "service": t.service, **t.metrics} for t in ticks]
            report.archived.append(self.metric_archive.write_tick(at, report.tick, rows))
            compacted = self.metric_archive.compact_previous_hour(at)
            if compacted:
                report.archived.append(compacted)
        if self.log_archive is not None:
            rows = [r for t in ticks for r in t.logs]
            report.archived.append(self.log_archive.write_tick(at, report.tick, rows))
            compacted = self.log_archive.compact_previous_hour(at)
            if compacted:
                report.archived.append(compacted)
