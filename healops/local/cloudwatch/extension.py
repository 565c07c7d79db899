"""The CloudWatch extension: the metric store patches and the alarm evaluator loop."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from healops.local.base import BackgroundLoop, iter_backends
from healops.local.cloudwatch import patches
from healops.local.cloudwatch.alarms import UnsupportedAlarmError, evaluate_alarm
from healops.local.cloudwatch.store import (
    DEFAULT_MAX_POINTS_PER_SERIES,
    DEFAULT_RETENTION_SECONDS,
    RetentionPolicy,
)

if TYPE_CHECKING:
    from healops.local.context import EmbeddedContext

logger = logging.getLogger(__name__)

# CloudWatch evaluates alarms about once a minute; ten simulated seconds keeps transitions
# prompt without costing much (an evaluation is a few binary searches per alarm).
DEFAULT_EVALUATION_INTERVAL = 10.0
DEFAULT_TRIM_INTERVAL = 60.0


class CloudWatchExtension:
    """Indexed metric store and metric alarm evaluator for moto's CloudWatch.

    ``retention_seconds`` / ``max_points_per_series``: see :class:`RetentionPolicy`.
    ``evaluation_interval``: simulated seconds between alarm evaluations (real seconds are this
    divided by the time scale). ``trim_interval``: real seconds between retention sweeps.
    """

    name = "cloudwatch"

    def __init__(
        self,
        retention_seconds: float | None = DEFAULT_RETENTION_SECONDS,
        max_points_per_series: int | None = DEFAULT_MAX_POINTS_PER_SERIES,
        evaluation_interval: float = DEFAULT_EVALUATION_INTERVAL,
        trim_interval: float = DEFAULT_TRIM_INTERVAL,
    ) -> None:
        if evaluation_interval <= 0 or trim_interval <= 0:
            raise ValueError(
                f"evaluation_interval and trim_interval must be positive seconds, got "
                f"{evaluation_interval!r} and {trim_interval!r}"
            )
        self.policy = RetentionPolicy(retention_seconds, max_points_per_series)
        self.evaluation_interval = evaluation_interval
        self.trim_interval = trim_interval
        self._ctx: EmbeddedContext | None = None
        self._loop: BackgroundLoop | None = None
        self._last_trim = time.monotonic()
        self._reported: set[tuple[str, str]] = set()

    # ------------------------------------------------------------ Extension protocol
    def install(self, ctx: EmbeddedContext) -> None:
        self._ctx = ctx
        patches.install()
        patches.activate(patches.ActiveSettings(policy=self.policy, time_scale=ctx.time_scale))

    def start(self, ctx: EmbeddedContext) -> None:
        self._ctx = ctx
        self._loop = BackgroundLoop(
            "cloudwatch-alarms", self.tick, lambda: max(ctx.scaled(self.evaluation_interval), 0.05)
        )
        self._loop.start()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        patches.activate(None)

    # ------------------------------------------------------------ background work
    def tick(self) -> None:
        """One round: evaluate every metric alarm, and sweep retention when due."""
        self.evaluate_alarms()
        if time.monotonic() - self._last_trim >= self.trim_interval:
            self._last_trim = time.monotonic()
            self.trim()

    def trim(self) -> int:
        from moto.cloudwatch.models import cloudwatch_backends

        dropped = 0
        for _account, _region, backend in iter_backends(cloudwatch_backends):
            store = backend.__dict__.get(patches.STORE_ATTRIBUTE)
            if store is not None:
                dropped += store.trim()
        return dropped

    def evaluate_alarms(self, now: float | None = None) -> int:
        """Evaluate every metric alarm at real time ``now``; the number of state changes."""
        from moto.cloudwatch.models import cloudwatch_backends

        scale = self._ctx.time_scale if self._ctx is not None else 1.0
        changes = 0
        for account, region, backend in iter_backends(cloudwatch_backends):
            alarms = list(backend.alarms.values())
            if not alarms:
                continue
            view = patches.view_of(backend)
            for alarm in alarms:
                if alarm.rule is not None:
                    continue  # composite alarms are not evaluated
                try:
                    decision = evaluate_alarm(alarm, view, time.time() if now is None else now, scale)
                except UnsupportedAlarmError as exc:
                    self._report_once(alarm.alarm_arn, str(exc))
                    continue
                except Exception:
                    logger.exception("alarm %s in %s/%s: evaluation failed", alarm.name, account, region)
                    continue
                if decision is None:
                    continue
                changes += self._apply(backend, alarm, decision)
        return changes

    def _apply(self, backend: Any, alarm: Any, decision: Any) -> int:
        if backend.alarms.get(alarm.name) is not alarm:
            return 0  # deleted or replaced while we evaluated
        try:
            backend.set_alarm_state(alarm.name, decision.reason, json.dumps(decision.reason_data), decision.state)
        except Exception:
            logger.exception("alarm %s: setting state %s failed", alarm.name, decision.state)
            return 0
        return 1

    def _report_once(self, arn: str, message: str) -> None:
        if (arn, message) not in self._reported:
            self._reported.add((arn, message))
            logger.warning("alarm %s is not evaluated: %s", arn, message)
