"""Detector: woken by the tick schedule and by CloudWatch alarm state changes.

For now it records each alarm state change as one structured log line (the anomaly detectors,
correlation and incident creation come in later issues) and logs schedule ticks.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import parse

from healops.models import AlarmStateChangeEvent, ScheduledEvent
from healops.models.events import ALARM_STATE_CHANGE, SCHEDULED_EVENT

logger = Logger()


class UnsupportedEventError(ValueError):
    """The detector was sent an event it has no handling for."""


def on_alarm_state_change(event: dict[str, Any]) -> dict[str, Any]:
    change = parse(event=event, model=AlarmStateChangeEvent)
    detail = change.detail
    summary = {
        "handled": "alarm_state_change",
        "alarm_name": detail.alarm_name,
        "new_state": detail.state.value,
        "old_state": detail.previous_state.value if detail.previous_state else None,
        "reason": detail.state.reason,
        "time": change.time.isoformat(),
    }
    logger.info("alarm state change", extra={k: v for k, v in summary.items() if k != "handled"})
    return summary


def on_tick(event: dict[str, Any]) -> dict[str, Any]:
    tick = parse(event=event, model=ScheduledEvent)
    logger.info("tick", extra={"time": tick.time.isoformat(), "rules": tick.resources})
    return {"handled": "tick", "time": tick.time.isoformat()}


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
