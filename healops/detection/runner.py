"""The detector's run: read the window, step the core, correlate, write incidents (the Lambda's body).

A tick run processes the complete ticks after each service's last processed one, up to the tick before the
event's (the generator writes tick ``t`` while the detector for ``t`` runs), at most ``window_ticks`` back. It
reads only at the ticks its :class:`healops.detection.schedule.ReadSchedule` says (every one by default; at 10,
GetMetricData is priced per metric requested per call, so one read of ten one-minute points costs a tenth of ten
reads); at the others it returns without a call, and the error-rate alarms' state changes (``on_signals``) are the
fast path in between.
Per-service states and the correlation state live in ``detector_state``. Changes are applied before the
correlation state is saved: an incident is created by a conditional write on its deterministic id, so when two
runs race, one creates it, the other's write is refused, and the loser re-reads the state and re-correlates
(its signals then join the incident the winner opened).

Logs are read for at most ``log_reads_per_run`` services per run (FilterLogEvents is one call per log group, and
AWS allows an account about 5 of them a second): first the services whose new metrics are off their normal
(their logs are observed before their metrics are scored, so a deploy event explains a latency bump), then
the services whose logs are furthest behind. Each service keeps its own log cursor, so a log line is read late,
never skipped, unless it falls out of the window.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from healops import egress
from healops.detection.correlate import (
    Change,
    CorrelationConfig,
    CorrelationState,
    DependencyGraph,
    Episode,
    correlate,
    hand_back,
)
from healops.detection.engine import FleetDetection, TickInput
from healops.detection.schedule import ReadSchedule
from healops.detection.service import ServiceDetector, ServiceDetectorConfig
from healops.detection.signals import Signal
from healops.detection.sources import LogRead, ReadCounts, read_logs, read_metrics
from healops.fleet.clock import SimClock
from healops.models.incident import IncidentMessage
from healops.notify.announce import Announcer, no_announcer
from healops.notify.models import Notification
from healops.redaction import redact
from healops.store.agent_decisions import AgentDecisionsRepository, DecisionStep
from healops.store.base import ConditionFailedError
from healops.store.detector_state import DetectorStateRepository
from healops.store.incidents import IncidentRecord, IncidentsRepository
from healops.timing import PhaseTimer

logger = logging.getLogger(__name__)

CORRELATION_KEY = "correlation"
_CORRELATE_ATTEMPTS = 5


def service_key(service: str) -> str:
    return f"service#{service}"


@dataclass
class RunReport:
    tick: int
    services: int
    ticks_processed: int = 0
    signals: int = 0
    changes: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)  # incidents the outbox sweep sent late
    reads: ReadCounts = field(default_factory=ReadCounts)
    state_calls: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    read: bool = True  # False: not a read tick (ReadSchedule), the run made no call

    def as_dict(self) -> dict[str, Any]:
        answer = asdict(self)
        answer["reads"]["missing_log_groups"] = len(self.reads.missing_log_groups)
        answer["reads"]["log_read_failures"] = len(self.reads.log_read_failures)
        return answer


@dataclass
class IncidentSink:
    """Where a change lands: the incidents table, the queue, the evidence bucket and the decisions trace.

    The queue's and the bucket's clients are made redacting (:func:`healops.egress.redacting`): every field of the
    message and of the evidence object is redacted as it is sent, as the tables' repositories redact every write."""

    incidents: IncidentsRepository
    decisions: AgentDecisionsRepository
    sqs: Any
    queue_url: str
    s3: Any
    bucket: str | None
    # Telling people (healops/notify/announce.py): an escalated incident whose service recovered is resolved,
    # and the humans it was handed to are told (PagerDuty resolves the page it triggered).
    announce: Announcer = no_announcer

    def __post_init__(self) -> None:
        self.sqs = egress.redacting(self.sqs)
        if self.s3 is not None:
            self.s3 = egress.redacting(self.s3)

    def apply(self, change: Change, evidence: dict[str, Any], at: datetime, onset_at: datetime | None = None) -> bool:
        """True if this call created or reopened the incident (and so enqueued it).

        ``onset_at`` is when the first anomalous tick began: the dashboard's MTTD runs from it."""
        episode = change.episode
        if change.action == "open":
            record = _record(change, at, self.bucket, onset_at)
            if not self.incidents.create_if_absent(record):
                return False  # another run opened it first
            if self.bucket:
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=record.evidence_key,
                    # signal details may quote log text: the client redacts the artifact value by value
                    Body=json.dumps(evidence, separators=(",", ":")).encode(),
                    ContentType="application/json",
                )
            self.decisions.append(episode.incident_id, _why(change), at.isoformat())
            self._enqueue(record)
            return True
        current = self.incidents.get(episode.incident_id)
        if current is None:
            return False
        try:
            if change.action == "link":
                self.incidents.update(
                    current, linked_services=sorted(set(current.linked_services) | set(episode.linked))
                )
            elif change.action == "resolve" and current.status in ("open", "escalated"):
                # An escalated incident resolves too once its service is quiet (a human fixed it, or the fault
                # passed); one being remediated is the remediation's to resolve (its verification).
                self.incidents.transition(episode.incident_id, "resolved", summary=current.summary)
                self.decisions.append(episode.incident_id, _why(change), at.isoformat())
                if current.status == "escalated":
                    self._announce_recovery(current, change)
            elif change.action == "merge" and current.status in ("open", "remediating", "escalated"):
                # A caller's symptoms of its dependency's fault: closed, so its remediation does not act on the
                # caller (the act step reads the incident again: healops/remediation/engine.py).
                self.incidents.transition(
                    episode.incident_id, "resolved", merged_into=episode.merged_into, summary=current.summary
                )
                self.decisions.append(episode.incident_id, _why(change), at.isoformat())
            elif change.action == "reopen" and current.status in ("resolved", "escalated"):
                updated = self.incidents.transition(
                    episode.incident_id,
                    "open",
                    reopened=current.reopened + 1,
                    queued=False,
                    linked_services=sorted(set(current.linked_services) | set(episode.linked)),
                    root_reason=change.root_reason[:500] or current.root_reason,
                )
                self.decisions.append(episode.incident_id, _why(change), at.isoformat())
                self._enqueue(updated)
                return True
        except ConditionFailedError:
            logger.info("incident %s changed meanwhile; %s skipped", episode.incident_id, change.action)
        return False

    def _announce_recovery(self, record: IncidentRecord, change: Change) -> None:
        why = "; ".join(change.reasons) or f"{change.episode.root} is quiet"
        summary = redact(f"{record.service} recovered after the escalation: {why}")[:1024]
        try:
            notification = Notification(
                event="resolved", incident_id=record.incident_id, service=record.service, summary=summary
            )
        except ValueError as exc:
            logger.warning("notification not made for %s: %s", record.incident_id, exc)
            return
        self.announce(notification)

    def remediated(self, incident_ids: Sequence[str]) -> list[str]:
        """Of ``incident_ids`` (the detector's open episodes), those a remediation has resolved: a fix verified
        while the detector still saw signals. Strongly consistent, one BatchGetItem per 100 open episodes."""
        statuses = self.incidents.statuses(incident_ids)
        return [i for i in incident_ids if statuses.get(i) == "resolved"]

    def hand_back(self, state: CorrelationState, tick: int) -> list[Episode]:
        """Resolve in ``state``, as of ``tick``, the open episodes whose incident a remediation resolved
        (:func:`healops.detection.correlate.hand_back`), so a fix that does not hold reopens them."""
        return hand_back(state, self.remediated([e.incident_id for e in state.open_episodes()]), tick)

    def flush_outbox(self, older_than: datetime) -> list[str]:
        """Send the open incidents whose message a run wrote but never sent (it crashed, or SQS failed, between
        the write and the send; the run that retries finds the incident exists and does not send it)."""
        sent = []
        for record in self.incidents.unqueued(older_than.isoformat()):
            logger.warning("incident %s was written but never queued: sending it now", record.incident_id)
            self._enqueue(record)
            sent.append(record.incident_id)
        return sent

    def _enqueue(self, record: IncidentRecord) -> None:
        """Put the incident on the queue, then mark it queued (at least once: the consumer ignores a repeat)."""
        message = IncidentMessage(
            incident_id=record.incident_id,
            service=record.service,
            kind=record.kind[:64],
            opened_at=datetime.fromisoformat(record.opened_at),
            severity=record.severity,
            summary=redact(record.summary)[:2000],  # redacted before it is cut (half a secret is not recognisable)
            episode=record.reopened,
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=message.model_dump_json())
        self.incidents.mark_queued(record.incident_id)


def _severity(change: Change) -> str:
    signals = change.episode.signals
    if any(s["kind"] == "heartbeat" and s.get("strong") for s in signals) or any(
        s["kind"] == "error_rate" and s.get("value", 0) >= 50 for s in signals
    ):
        return "critical"
    if change.episode.predicted:
        return "medium"
    if any(s["kind"] == "error_rate" and s.get("value", 0) >= 20 for s in signals) or len(change.episode.linked) >= 2:
        return "high"
    return "medium"


def _summary(change: Change) -> str:
    e = change.episode
    lead = e.signals[0]["detail"] if e.signals else e.kind
    linked = f"; callers affected: {', '.join(e.linked)}" if e.linked else ""
    return f"{e.root}: {lead}{linked}"[:2000]


def _record(change: Change, at: datetime, bucket: str | None, onset_at: datetime | None = None) -> IncidentRecord:
    e = change.episode
    return IncidentRecord(
        incident_id=e.incident_id,
        service=e.root,
        kind=e.kind,
        severity=_severity(change),  # type: ignore[arg-type]
        opened_at=at.isoformat(),
        summary=_summary(change),
        linked_services=list(e.linked),
        root_reason=change.root_reason[:500],
        signals=e.signals,
        predicted=e.predicted,
        eta_s=e.eta_s,
        evidence_key=f"incidents/{e.incident_id}/evidence.json" if bucket else None,
        start_tick=e.start_tick,
        onset_at=onset_at.isoformat() if onset_at else None,
        queued=False,  # until the message is sent: the outbox (IncidentSink.flush_outbox)
    )


def _why(change: Change) -> list[DecisionStep]:
    e = change.episode
    if change.action == "merge":
        return [
            DecisionStep(
                phase="concluded",
                actor="detector",
                title=f"Merged into {e.merged_into}: {e.root}'s symptoms are its dependency's fault"[:200],
                detail="; ".join(change.reasons)[:2000],
                data={"merged_into": e.merged_into},
            )
        ]
    if change.action == "resolve":
        return [
            DecisionStep(
                phase="concluded", actor="detector", title=f"Resolved: {e.root} quiet", detail="; ".join(change.reasons)
            )
        ]
    fired = "; ".join(
        f"{s.service} {s.kind} ({'strong' if s.strong else 'weak'}, score {s.score:g}): {s.detail}"
        for s in change.signals
    )
    title = {"open": "Opened", "reopen": "Reopened", "link": "Linked"}[change.action]
    at_tick = change.signals[0].tick if change.signals else e.last_signal_tick
    kind = f"{e.kind} (predicted, ETA {e.eta_s / 60:.1f} min)" if e.predicted and e.eta_s else e.kind
    return [
        DecisionStep(
            phase="observed",
            actor="detector",
            title=f"{title} {kind} on {e.root}"[:200],
            detail=f"Signals that fired at tick {at_tick}: {fired}"[:2000],
            data={"signals": [s.as_dict() for s in change.signals[:20]]},
        ),
        DecisionStep(
            phase="concluded",
            actor="detector",
            title=f"Grouped as one incident rooted at {e.root}"[:200],
            detail=(
                "; ".join(change.reasons) + ". Signals on one service merge; callers' symptoms go to the "
                "upstream root; weak signals (log storms, new signatures) corroborate but never open one."
            )[:2000],
            data={"root": e.root, "linked": e.linked, "incident_id": e.incident_id},
        ),
    ]


@dataclass
class DetectorRunner:
    cloudwatch: Any
    logs: Any
    states: DetectorStateRepository
    sink: IncidentSink
    graph: DependencyGraph
    clock: SimClock
    namespace: str
    log_group_prefix: str
    window_ticks: int = 30
    correlation: CorrelationConfig = field(default_factory=CorrelationConfig)
    log_reads_per_run: int | None = None  # None: every service's logs every run
    # Every tick unless told: the Lambda passes the deployed setting (HEALOPS_DETECTOR_READ_EVERY_TICKS).
    schedule: ReadSchedule = field(default_factory=lambda: ReadSchedule(1))

    def __post_init__(self) -> None:
        if self.log_reads_per_run is not None and self.log_reads_per_run < 1:
            raise ValueError(f"log_reads_per_run must be at least 1 (or None: no bound), got {self.log_reads_per_run}")

    @property
    def config(self) -> ServiceDetectorConfig:
        return ServiceDetectorConfig(tick_seconds=self.clock.tick_seconds)

    def run_tick(self, at: datetime) -> RunReport:
        """Process every complete tick up to the one before ``at``'s, if ``at``'s tick is a read tick."""
        last = self.clock.tick_of(at) - 1
        services = self.graph.services
        report = RunReport(tick=last, services=len(services))
        if not self.schedule.due(last + 1):
            report.read = False
            return report
        timer = PhaseTimer(report.seconds)
        with timer("read_state"):
            saved = self.states.get_many([service_key(s) for s in services])
        detection = FleetDetection(self.graph, self.config, self.correlation)
        for service in services:
            state = saved.get(service_key(service))
            if state is not None:
                detection.detectors[service] = ServiceDetector.from_state(service, state[0], self.config)
        processed = {s: detection.detector(s).last_tick for s in services}
        first = min((p + 1 for p in processed.values() if p is not None), default=last - self.window_ticks + 1)
        first = max(first, last - self.window_ticks + 1)
        if first > last:
            return report
        with timer("get_metric_data"):
            metrics = read_metrics(self.cloudwatch, self.namespace, services, self.clock, first, last, report.reads)
        with timer("filter_log_events"):
            window_start = last - self.window_ticks + 1
            log_ticks = {s: detection.detector(s).log_tick for s in services}
            log_from = {s: first if t is None else max(t + 1, window_start) for s, t in log_ticks.items()}
            chosen = self._log_schedule(detection, metrics, log_from, last)
            report.reads.log_ticks_skipped = sum(
                max(0, window_start - t - 1) for s in chosen if (t := log_ticks[s]) is not None
            )
            logs = read_logs(
                self.logs, self.log_group_prefix, {s: log_from[s] for s in chosen}, last, self.clock, report.reads
            )
        with timer("detect"):
            by_tick: dict[int, list[Signal]] = {t: [] for t in range(first, last + 1)}
            for tick in range(min([first, *(log_from[s] for s in chosen)]), last + 1):
                inputs = {}
                for s in services:
                    records = _records(logs.get(s), tick)
                    if tick >= first and tick in metrics[s]:
                        inputs[s] = TickInput(metrics[s][tick], records)
                    elif records is not None:  # logs of a tick whose metrics were scored already (or are missing)
                        by_tick[max(tick, first)] += detection.detector(s).observe_logs(tick, records)
                if tick >= first:
                    by_tick[tick] += detection.signals(tick, inputs)
                    report.ticks_processed += 1
            report.signals = sum(len(v) for v in by_tick.values())
        with timer("correlate"):
            self._correlate(by_tick, metrics, at, report)
        with timer("outbox"):
            # Two ticks of grace: a run that is between its write and its send is not a lost message.
            grace = timedelta(seconds=2 * self.clock.tick_seconds / self.clock.time_scale)
            report.requeued = self.sink.flush_outbox(datetime.now(UTC) - grace)
        with timer("write_state"):
            report.state_calls = self.states.put_many(
                {service_key(s): d.to_state() for s, d in detection.detectors.items()}
            )
        return report

    def _log_schedule(
        self,
        detection: FleetDetection,
        metrics: dict[str, dict[int, dict[str, float]]],
        log_from: dict[str, int],
        last: int,
    ) -> list[str]:
        """The services whose logs this run reads: all of them, or within the bound the ones whose metrics are
        off their normal (worst first), then the ones furthest behind."""
        services = [s for s in self.graph.services if log_from[s] <= last]
        bound = self.log_reads_per_run
        if bound is None or len(services) <= bound:
            return services
        urgency = {
            s: max((detection.detector(s).log_urgency(m) for m in metrics[s].values()), default=0.0) for s in services
        }
        urgent = sorted((s for s in services if urgency[s] >= 0.5), key=lambda s: (-urgency[s], s))
        rest = sorted((s for s in services if urgency[s] < 0.5), key=lambda s: (log_from[s], s))
        return (urgent + rest)[:bound]

    def on_signals(self, signals: Sequence[Signal], at: datetime) -> RunReport:
        """Correlate signals from elsewhere (alarm state changes) at ``at``'s tick."""
        tick = self.clock.tick_of(at)
        report = RunReport(tick=tick, services=len({s.service for s in signals}), signals=len(signals))
        self._correlate({tick: list(signals)}, {}, at, report, resolve=False)
        return report

    def _correlate(
        self,
        by_tick: dict[int, list[Signal]],
        metrics: dict[str, dict[int, dict[str, float]]],
        at: datetime,
        report: RunReport,
        resolve: bool = True,
    ) -> None:
        for _ in range(_CORRELATE_ATTEMPTS):
            raw, version = self.states.get_versioned(CORRELATION_KEY)
            state = CorrelationState.from_state(raw)
            changes: list[Change] = []
            for tick in sorted(by_tick):
                if resolve and tick == max(by_tick):
                    # A read's earlier ticks may predate a fix the remediation verified since: their signals join
                    # the episode (still open here), and only the last tick's can say the fix did not hold.
                    self.sink.hand_back(state, tick)
                config = self.correlation if resolve else CorrelationConfig(quiet_ticks=10**9)
                changes += correlate(state, by_tick[tick], tick, self.graph, config)
            for change in changes:
                series = metrics
                if change.action in ("open", "reopen"):
                    # the evidence is the whole window around the detection, not only the ticks this run read
                    last = max(by_tick)
                    series = read_metrics(
                        self.cloudwatch,
                        self.namespace,
                        change.episode.services,
                        self.clock,
                        last - self.window_ticks + 1,
                        last,
                        report.reads,
                    )
                onset = self.clock.start_of_tick(change.episode.start_tick)
                if self.sink.apply(change, _evidence(change, series), at, onset):
                    report.created.append(change.episode.incident_id)  # kept if the state write must be retried
            try:
                self.states.put_versioned(CORRELATION_KEY, state.to_state(), version)
            except ConditionFailedError:
                continue  # another run moved the state: re-read and correlate again (creation is idempotent)
            report.changes = [f"{c.action}:{c.episode.incident_id}" for c in changes]
            return
        raise ConditionFailedError(f"correlation state kept changing; gave up after {_CORRELATE_ATTEMPTS} attempts")


def _records(read: LogRead | None, tick: int) -> list[dict[str, Any]] | None:
    """``tick``'s log records from ``read``, or None when the read did not cover it."""
    if read is None or read.through_tick is None or not read.from_tick <= tick <= read.through_tick:
        return None
    return read.by_tick.get(tick, [])


def _evidence(change: Change, metrics: dict[str, dict[int, dict[str, float]]]) -> dict[str, Any]:
    e = change.episode
    return {
        "incident_id": e.incident_id,
        "root": e.root,
        "linked": e.linked,
        "signals": e.signals,
        "series": {s: {str(t): v for t, v in sorted(metrics.get(s, {}).items())} for s in e.services},
    }


def alarm_signal(
    alarm_name: str, reason: str, services: Sequence[str], tick: int, at: datetime | None = None
) -> Signal | None:
    """The service an alarm named ``<prefix>-<service>-error-rate`` is about, as a strong signal; None if unknown."""
    known = sorted(services, key=len, reverse=True)
    for service in known:
        if alarm_name.endswith(f"-{service}-error-rate"):
            text = f"CloudWatch alarm {alarm_name} in ALARM: {reason}"[:300]
            return Signal(
                service=service, tick=tick, kind="alarm", score=1.0, strong=True, detail=text, metric="ErrorRate"
            )
    return None
