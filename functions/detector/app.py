"""Detector: woken by the tick schedule and by CloudWatch alarm state changes.

A tick runs ``healops.detection.runner.DetectorRunner.run_tick`` (at a read tick, every
``HEALOPS_DETECTOR_READ_EVERY_TICKS``-th: read the ticks since the last read, step the per-service detectors,
correlate, write incidents); an alarm entering ALARM is a strong signal correlated the
same way. Logic lives in ``healops.detection``; this module parses events and wires clients.
"""

from __future__ import annotations

from datetime import UTC
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parser import parse

from healops import config
from healops.detection.correlate import DependencyGraph
from healops.detection.runner import DetectorRunner, IncidentSink, alarm_signal
from healops.detection.schedule import ReadSchedule
from healops.fleet.definition import dependency_graph
from healops.logs import function_logger, redact_errors
from healops.models import AlarmStateChangeEvent, ScheduledEvent
from healops.models.events import ALARM_STATE_CHANGE, SCHEDULED_EVENT
from healops.notify.announce import announcer_for
from healops.redaction import redact
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.detector_state import DetectorStateRepository
from healops.store.incidents import IncidentsRepository

logger = function_logger()


class UnsupportedEventError(ValueError):
    """The detector was sent an event it has no handling for."""


@cache
def runner() -> DetectorRunner:
    settings = config.current()
    c = {name: boto3.client(name) for name in ("cloudwatch", "logs", "dynamodb", "sqs", "s3")}
    return DetectorRunner(
        cloudwatch=c["cloudwatch"],
        logs=c["logs"],
        states=DetectorStateRepository(settings.require("detector_state_table"), c["dynamodb"]),
        sink=IncidentSink(
            incidents=IncidentsRepository(settings.require("incidents_table"), c["dynamodb"]),
            decisions=AgentDecisionsRepository(settings.require("agent_decisions_table"), c["dynamodb"]),
            sqs=c["sqs"],
            queue_url=settings.require("incidents_queue_url"),
            s3=c["s3"],
            bucket=settings.artifacts_bucket,
            announce=announcer_for(settings.notifier_function, lambda: boto3.client("lambda")),
        ),
        graph=DependencyGraph(dependency_graph(settings.fleet_size)),
        clock=settings.clock(),
        namespace=settings.metrics_namespace,
        log_group_prefix=settings.service_log_group_prefix,
        log_reads_per_run=settings.detector_log_reads_per_run,
        schedule=ReadSchedule(settings.detector_read_every_ticks),
    )


def on_alarm_state_change(event: dict[str, Any]) -> dict[str, Any]:
    change = parse(event=event, model=AlarmStateChangeEvent)
    detail = change.detail
    summary: dict[str, Any] = {
        "handled": "alarm_state_change",
        "alarm_name": detail.alarm_name,
        "new_state": detail.state.value,
        "old_state": detail.previous_state.value if detail.previous_state else None,
        # The reason is free text from whoever set the alarm state: the caller gets it masked, as the log does.
        "reason": redact(detail.state.reason),
        "time": change.time.isoformat(),
    }
    logger.info("alarm state change", extra={k: v for k, v in summary.items() if k != "handled"})
    if detail.state.value == "ALARM":
        run = runner()
        signal = alarm_signal(
            detail.alarm_name, detail.state.reason, run.graph.services, run.clock.tick_of(change.time)
        )
        if signal is not None:
            summary["incidents"] = run.on_signals([signal], change.time).changes
    return summary


def on_tick(event: dict[str, Any]) -> dict[str, Any]:
    tick = parse(event=event, model=ScheduledEvent)
    report = runner().run_tick(tick.time.astimezone(UTC) if tick.time.tzinfo else tick.time.replace(tzinfo=UTC))
    answer = {"handled": "tick", "time": tick.time.isoformat(), **report.as_dict()}
    logger.info("tick", extra={"run": {k: v for k, v in answer.items() if k != "handled"}})
    return answer


@redact_errors
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    if detail_type == ALARM_STATE_CHANGE:
        return on_alarm_state_change(event)
    if detail_type == SCHEDULED_EVENT:
        return on_tick(event)
    raise UnsupportedEventError(
        f"detector cannot handle an event with detail-type {detail_type!r}: "
        f"accepted are {SCHEDULED_EVENT!r} and {ALARM_STATE_CHANGE!r} EventBridge events"
    )
