"""When the detector reads the fleet's metrics, and what wakes it in between (pure).

GetMetricData is priced per metric requested per call, not per datapoint returned, so the detector reads the full
set of metrics every ``every_ticks`` ticks (:class:`ReadSchedule`) and steps every one-minute point of the batch in
order: the detection logic sees every point, the bill is a tenth at 10 (the default is 1: every tick). In between,
the per-service CloudWatch error-rate alarms (terraform/alarms.tf) watch the error rate and wake the detector at
once when one enters ALARM (its state change is a strong signal, correlated at the tick it fires).

:class:`ScheduledDetection` runs :class:`healops.detection.engine.FleetDetection` the way the deployed detector
does (read every ``every_ticks`` ticks, the error-rate alarm's signal at once), so the in-process benches measure
what a user gets. :class:`ErrorRateAlarm` is the alarm's model: ``datapoints`` breaching one-minute points in a row
(treat_missing_data notBreaching), entering ALARM once until a point no longer breaches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from healops.detection.correlate import Change, CorrelationState, correlate
from healops.detection.engine import FleetDetection, TickInput
from healops.detection.signals import Signal

# The deployed default (terraform/variables.tf detector_read_every_ticks, healops/config.py): every tick. At 10 the
# detector's GetMetricData is a tenth ($0.35 instead of $3.46 a service-month) and the MTTD is measured
# (docs/cost.md), but 10 is not the default yet: the deployed stack's all-faults e2e test missed a 15-tick CPU
# spike at 10 (docs/cost.md, "Not the default yet").
DEFAULT_READ_EVERY_TICKS = 1
# A read catches up on every tick since the last one, at most the runner's window (30 ticks) back: at 15 a read
# that failed (or whose invocation was lost) leaves the next one 30 ticks to catch up, and nothing is skipped.
MAX_READ_EVERY_TICKS = 15
# terraform/alarms.tf: ErrorRate above error_rate_threshold (5 by default) for 3 of 3 one-minute periods.
ALARM_THRESHOLD_PCT = 5.0
ALARM_DATAPOINTS = 3


@dataclass(frozen=True)
class ReadSchedule:
    """The detector reads (and steps) the complete ticks since its last read at every ``every_ticks``-th tick
    (``phase`` shifts which: the benches spread their faults' starts over the read period with it)."""

    every_ticks: int = DEFAULT_READ_EVERY_TICKS
    phase: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.every_ticks <= MAX_READ_EVERY_TICKS:
            raise ValueError(
                f"the detector's read period must be 1 to {MAX_READ_EVERY_TICKS} ticks (a read catches up at most "
                f"30 ticks, two periods), got {self.every_ticks}"
            )

    def due(self, tick: int) -> bool:
        """Whether an invocation at ``tick`` reads (the ticks before it); the others return without a call."""
        return (tick - self.phase) % self.every_ticks == 0


@dataclass
class ErrorRateAlarm:
    """One service's error-rate alarm as terraform/alarms.tf declares it."""

    threshold: float = ALARM_THRESHOLD_PCT
    datapoints: int = ALARM_DATAPOINTS
    breaching: int = 0
    in_alarm: bool = False

    def update(self, error_rate: float | None) -> bool:
        """Evaluate one one-minute point; True when the alarm enters ALARM with it."""
        self.breaching = self.breaching + 1 if error_rate is not None and error_rate > self.threshold else 0
        entered = self.breaching >= self.datapoints and not self.in_alarm
        self.in_alarm = self.breaching >= self.datapoints
        return entered


def alarm_name(service: str) -> str:
    return f"healops-{service}-error-rate"


@dataclass
class ScheduledDetection:
    """``detection`` stepped as the deployed detector steps it: the alarms at once, the metrics in batches."""

    detection: FleetDetection
    schedule: ReadSchedule = field(default_factory=ReadSchedule)
    with_alarms: bool = True  # False: what the reads alone detect (the alarms' share of the MTTD, measured)
    alarm_datapoints: int = ALARM_DATAPOINTS
    alarms: dict[str, ErrorRateAlarm] = field(default_factory=dict)
    pending: list[tuple[int, Mapping[str, TickInput]]] = field(default_factory=list)

    def step(
        self,
        tick: int,
        inputs: Mapping[str, TickInput],
        hand_back: Callable[[CorrelationState, int], object] | None = None,
    ) -> list[Change]:
        """Tick ``tick``'s telemetry is written: the changes the detector makes by the time the next tick starts
        (an alarm's at once; a read's when the next tick is a read tick, for every tick since the last read).
        ``hand_back(state, tick)`` resolves the episodes a remediation resolved, before a read's last tick, as
        :meth:`healops.detection.runner.DetectorRunner.run_tick` does."""
        from healops.detection.runner import alarm_signal  # the runner imports this module

        signals: list[Signal] = []
        for service in sorted(inputs) if self.with_alarms else ():
            alarm = self.alarms.setdefault(service, ErrorRateAlarm(datapoints=self.alarm_datapoints))
            if alarm.update(inputs[service].metrics.get("ErrorRate")):
                name = alarm_name(service)
                signal = alarm_signal(name, "Threshold Crossed", list(inputs), tick)
                if signal is not None:
                    signals.append(signal)
        changes: list[Change] = []
        if signals:  # as DetectorRunner.on_signals: correlated at once, nothing resolved by it
            quiet = replace(self.detection.correlation, quiet_ticks=10**9)
            changes += correlate(self.detection.state, signals, tick, self.detection.graph, quiet)
        self.pending.append((tick, inputs))
        if self.schedule.due(tick + 1):  # the invocation at tick + 1 reads up to tick
            for pending_tick, pending_inputs in self.pending:
                if hand_back is not None and pending_tick == tick:
                    hand_back(self.detection.state, tick)
                changes += self.detection.step(pending_tick, pending_inputs)
            self.pending.clear()
        return changes
