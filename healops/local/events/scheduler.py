"""Fire EventBridge schedule rules on a clock that runs ``time_scale`` times faster.

The simulated clock starts at the real wall-clock time the scheduler starts and then
advances ``time_scale`` simulated seconds per real second. Both kinds of rule run on it:

- ``rate(n unit)`` fires one period after the scheduler first sees the rule (AWS fires rate
  rules about one period after creation) and every period after that: with
  ``time_scale`` 60, ``rate(1 minute)`` fires every real second;
- ``cron(...)`` fires at the simulated instants its fields match: with ``time_scale`` 60,
  ``cron(0 * * * ? *)`` (hourly) fires once per real minute, when the simulated clock
  passes an hour boundary.

Every tick walks every rule with a ``ScheduleExpression`` on every event bus of every
account and region moto holds. A rule whose state is not ENABLED, or that was deleted, is
forgotten at once (re-enabling starts a new period); a rule whose expression changed is
planned afresh. Missed fires (a stalled process) are skipped, not caught up. An expression
this module cannot parse is logged once per rule and expression and never fires (the
extension also rejects such expressions at PutRule).

The Scheduled Event's ``time`` is the real wall-clock time of the firing; only the intervals
between firings shrink.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from healops.local.base import iter_backends
from healops.local.events.schedule import Schedule, ScheduleExpressionError, parse_schedule_expression

logger = logging.getLogger(__name__)

# Longest real sleep between ticks: how soon a new, changed or disabled rule is noticed.
MAX_TICK_INTERVAL = 0.25
MIN_TICK_INTERVAL = 0.005


class SimulatedClock:
    """UTC time that starts at the real time of construction and runs ``scale`` times faster."""

    def __init__(self, scale: float, real_time: Callable[[], float] = time.time) -> None:
        self.scale = scale
        self._real_time = real_time
        self._start = real_time()

    def now(self) -> datetime:
        real = self._real_time()
        return datetime.fromtimestamp(self._start + (real - self._start) * self.scale, UTC)

    def real_seconds_until(self, instant: datetime) -> float:
        return (instant - self.now()).total_seconds() / self.scale


def rule_is_enabled(rule: Any) -> bool:
    # "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" is enabled too.
    return str(getattr(rule, "state", "ENABLED")).startswith("ENABLED")


def scheduled_event(rule: Any, fired_at: float) -> dict[str, Any]:
    """AWS's Scheduled Event for ``rule``, in moto's internal shape (epoch ``time``)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": fired_at,
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
        "ingestion-time": fired_at,
    }


@dataclass
class _Plan:
    expression: str
    schedule: Schedule | None
    anchor: datetime
    next_fire: datetime | None


class RuleScheduler:
    """The tick and interval of the scheduler's BackgroundLoop; ``fire(rule)`` is called on time."""

    def __init__(
        self,
        clock: SimulatedClock,
        fire: Callable[[Any], None],
        backends: Callable[[], object] | None = None,
    ) -> None:
        self._clock = clock
        self._fire = fire
        self._backends = backends or _moto_events_backends
        self._plans: dict[str, _Plan] = {}

    def tick(self) -> None:
        now = self._clock.now()
        seen: set[str] = set()
        for rule in self._schedule_rules():
            key = rule.arn
            seen.add(key)
            plan = self._plans.get(key)
            if plan is None or plan.expression != rule.scheduled_expression:
                plan = self._plan(rule, now)
                self._plans[key] = plan
            if plan.next_fire is None or now < plan.next_fire or plan.schedule is None:
                continue
            try:
                self._fire(rule)
            except Exception:
                logger.exception("schedule rule %s: firing failed", key)
            plan.next_fire = plan.schedule.next_fire(plan.anchor, now)
        for gone in set(self._plans) - seen:
            del self._plans[gone]

    def interval(self) -> float:
        """Real seconds until the next fire is due, within [MIN, MAX]_TICK_INTERVAL."""
        upcoming = [plan.next_fire for plan in list(self._plans.values()) if plan.next_fire is not None]
        if not upcoming:
            return MAX_TICK_INTERVAL
        wait = self._clock.real_seconds_until(min(upcoming))
        return min(max(wait, MIN_TICK_INTERVAL), MAX_TICK_INTERVAL)

    def planned(self) -> dict[str, datetime | None]:
        """Next simulated fire time per rule ARN (for status and tests)."""
        return {arn: plan.next_fire for arn, plan in list(self._plans.items())}

    def _schedule_rules(self) -> list[Any]:
        rules: list[Any] = []
        for _account, _region, backend in iter_backends(self._backends()):
            for bus in list(getattr(backend, "event_buses", {}).values()):
                for rule in list(bus.rules.values()):
                    if rule.scheduled_expression and rule_is_enabled(rule):
                        rules.append(rule)
        return rules

    def _plan(self, rule: Any, now: datetime) -> _Plan:
        expression = rule.scheduled_expression
        try:
            schedule = parse_schedule_expression(expression)
        except ScheduleExpressionError as exc:
            logger.error("schedule rule %s will not fire: %s", rule.arn, exc)
            return _Plan(expression, None, now, None)
        next_fire = schedule.next_fire(now, now)
        logger.debug("schedule rule %s (%s): next fire at simulated %s", rule.arn, expression, next_fire)
        return _Plan(expression, schedule, now, next_fire)


def _moto_events_backends() -> object:
    from moto.events.models import events_backends

    return events_backends
