"""The EventBridge extension: moto patches, the scheduler loop and the delivery pool."""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healops.local.base import BackgroundLoop
from healops.local.events.delivery import EventDelivery
from healops.local.events.models import FiringLog, read_firings
from healops.local.events.schedule import ScheduleExpressionError, parse_schedule_expression
from healops.local.events.scheduler import RuleScheduler, SimulatedClock, rule_is_enabled, scheduled_event

if TYPE_CHECKING:
    from healops.local.context import EmbeddedContext

logger = logging.getLogger(__name__)

# Every firing in this process, across embedded clouds started one after another.
FIRING_LOG = FiringLog()
# How often (real seconds, at most) the firing records are written to the state dir.
FIRINGS_WRITE_INTERVAL = 1.0

# The extension whose delivery pool patched moto sends to; None when no embedded cloud runs,
# and moto then behaves as shipped.
_active: EventBridgeDelivery | None = None
_installed = False
_moto_send_to_targets: Any = None
_moto_put_rule: Any = None


def last_firings(state_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The last firing of every rule: ``{rule ARN: {rule, rule_name, trigger, event_id, time,
    outcome, targets: [{target_id, arn, status, attempts, error, detail}], count}}``.

    In the server process, read from memory; elsewhere (a CLI status command), pass the
    server's ``state_dir`` to read the snapshot it writes there about once a second.
    """
    if state_dir is not None:
        return read_firings(state_dir)
    return FIRING_LOG.snapshot()


def _send_to_targets_with_delivery(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    """Replaces ``moto.events.models.Rule.send_to_targets`` (PutEvents, S3 notifications, replays)."""
    delivery = _active.delivery if _active is not None else None
    if delivery is None:
        _moto_send_to_targets(self, original_event, transform_input)
        return
    # ``transform_input`` is moto's switch for replays and S3 notifications; here each target's
    # Input settings always apply, as on EventBridge. moto delivers to disabled rules and lets
    # a schedule-only rule (no pattern) match every event; EventBridge does neither.
    if not rule_is_enabled(self):
        return
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return
    if not self.event_pattern.matches_event(original_event):
        return
    try:
        delivery.deliver(self, original_event, trigger="event")
    except Exception:  # delivery trouble never fails the PutEvents caller
        logger.exception("rule %s: delivering event %s failed", self.arn, original_event.get("id"))


def _send_with_moto(rule: Any, targets: list[dict[str, Any]], event: dict[str, Any]) -> None:
    """moto's own delivery to archives, event buses and API destinations, for ``targets`` only."""
    narrowed = copy.copy(rule)  # a shallow copy: the live rule's targets stay untouched
    narrowed.targets = targets
    _moto_send_to_targets(narrowed, event, True)


def _put_rule_validating_schedule(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Replaces ``EventsBackend.put_rule``: rejects a schedule expression EventBridge would reject.

    moto accepts anything that starts with ``cron(`` or ``rate(``; such a rule would then
    silently never fire here.
    """
    expression = kwargs.get("scheduled_expression")
    if _active is not None and expression:
        try:
            parse_schedule_expression(expression)
        except ScheduleExpressionError as exc:
            from moto.events.exceptions import ValidationException

            raise ValidationException(f"Parameter ScheduleExpression is not valid: {exc}") from exc
    return _moto_put_rule(self, *args, **kwargs)


def _patch_moto() -> None:
    global _installed, _moto_send_to_targets, _moto_put_rule
    if _installed:
        return
    from moto.events.models import EventsBackend, Rule

    _moto_send_to_targets = Rule.send_to_targets
    _moto_put_rule = EventsBackend.put_rule
    Rule.send_to_targets = _send_to_targets_with_delivery  # type: ignore[method-assign]
    EventsBackend.put_rule = _put_rule_validating_schedule  # type: ignore[method-assign]
    _installed = True


class EventBridgeDelivery:
    """Schedule rules that fire, and delivery to Lambda, Step Functions, SQS and Logs targets."""

    name = "events"

    def __init__(self) -> None:
        self.delivery: EventDelivery | None = None
        self.scheduler: RuleScheduler | None = None
        self._ctx: EmbeddedContext | None = None
        self._loop: BackgroundLoop | None = None
        self._written_version = -1
        self._last_write = 0.0

    def install(self, ctx: EmbeddedContext) -> None:
        global _active
        self._ctx = ctx
        # The pool exists from install on: PutEvents may arrive before start().
        self.delivery = EventDelivery(FIRING_LOG, _send_with_moto, ctx.stop_event)
        _patch_moto()
        _active = self

    def start(self, ctx: EmbeddedContext) -> None:
        self.scheduler = RuleScheduler(SimulatedClock(ctx.time_scale), self._fire)
        self._loop = BackgroundLoop("events-scheduler", self._tick, self.scheduler.interval)
        self._loop.start()

    def _fire(self, rule: Any) -> None:
        assert self.delivery is not None
        logger.debug("schedule rule %s fires", rule.arn)
        self.delivery.deliver(rule, scheduled_event(rule, time.time()), trigger="schedule")

    def _tick(self) -> None:
        assert self.scheduler is not None
        self.scheduler.tick()
        self._write_firings()

    def _write_firings(self, force: bool = False) -> None:
        if self._ctx is None or FIRING_LOG.version == self._written_version:
            return
        now = time.monotonic()
        if not force and now - self._last_write < FIRINGS_WRITE_INTERVAL:
            return
        version = FIRING_LOG.version
        try:
            FIRING_LOG.write(self._ctx.state_dir)
        except OSError as exc:
            logger.warning("cannot write firing records to %s: %s", self._ctx.state_dir, exc)
        self._written_version = version
        self._last_write = now

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        if self.delivery is not None:
            self.delivery.shutdown()
        self._write_firings(force=True)
