"""The remediation steps: plan, guard, await approval, act, verify, escalate.

Each step is a method taking and returning a :class:`RunState` (the state machine's ``$.run``)
with ``route`` naming what comes next. Everything it touches is injected (fleet adapter,
repositories, metric reader, planner, limits, clocks), so the whole flow is unit-tested on
in-memory fakes and deployed unchanged. Every step writes a remediation attempt (one per
candidate tried) and its reasoning to ``agent_decisions``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from healops.fleet.actions import InvalidActionError
from healops.fleet.adapter import FleetAdapter, ServiceView, UnknownServiceError
from healops.fleet.clock import SimClock
from healops.llm.types import IncidentContext, MetricSummary, PastRemediation, PlanOutcome, RecentDeploy
from healops.models.incident import IncidentMessage
from healops.models.metrics import SERVICE_METRICS
from healops.models.remediation import AttemptOutcome, GuardDecision, Route
from healops.notify.announce import Announcer, no_announcer
from healops.notify.models import Notification, NotificationEvent
from healops.redaction import Redactor
from healops.remediation.catalog import (
    ActionRequest,
    InvalidProposalError,
    catalog_specs,
    replicas_left,
    validate_proposal,
    view_before,
)
from healops.remediation.catalog import entry as catalog_entry
from healops.remediation.evidence import LogReader, graph_around, incident_signals
from healops.remediation.guard import GuardSnapshot, GuardVerdict, decide
from healops.remediation.policy import RemediationLimits
from healops.remediation.run import Candidate, CurrentAttempt, RunState
from healops.remediation.sizing import replicas_to_add
from healops.remediation.telemetry import MetricReader
from healops.remediation.verification import EXHAUSTION_KINDS, verify
from healops.store.agent_decisions import AgentDecisionsRepository, DecisionStep
from healops.store.base import ConditionFailedError
from healops.store.incidents import IncidentRecord, IncidentsRepository, InvalidTransitionError
from healops.store.remediations import RemediationAttempt, RemediationsRepository, attempt_id
from healops.store.slots import RemediationSlots
from healops.targets.fleet import KindAwareFleet
from healops.targets.model import VerdictStatus

logger = logging.getLogger(__name__)

ACTOR = "remediator"
CONTEXT_TICKS = 10  # ticks of metrics the planner sees
LOG_LEAD_TICKS = 5  # ticks before the incident opened whose log lines the planner may see
ACTED_OUTCOMES = frozenset({AttemptOutcome.ACTED, AttemptOutcome.VERIFIED, AttemptOutcome.NOT_RECOVERED})
# The step a failed execution was in, from the route the last successful step set ($.run keeps it).
FAILED_STEP = {
    Route.GUARD: "guard",
    Route.NEXT: "guard",
    Route.ACT: "act",
    Route.AWAIT_APPROVAL: "approval",
    Route.WAIT: "verify",
}
TIMEOUT_ERRORS = frozenset({"States.Timeout", "States.HeartbeatTimeout"})
# Outcomes of an attempt that may still act: guarded, waiting for a human, or acted already (a retried act step).
PENDING_OUTCOMES = frozenset({AttemptOutcome.STARTED, AttemptOutcome.AWAITING_APPROVAL, AttemptOutcome.ACTED})


# Ticks past the verification window that a real target's rollout may still take before it counts as not taken.
READ_BACK_GRACE_TICKS = 10


def _busy_reason(service: str, holder: str) -> str:
    return f"{service} already has a remediation in flight (incident {holder}): one incident at a time per service"


class Planner(Protocol):
    """Plans an incident's context; ``deadline`` (a ``time.monotonic()`` instant, or None) bounds its wait for
    a model."""

    def __call__(self, context: IncidentContext, deadline: float | None = None) -> PlanOutcome: ...


def _headroom(incident: IncidentMessage, attempt: RemediationAttempt) -> dict[str, float]:
    """For an action on the service of a predicted exhaustion: the forecast metric -> its level when the action
    ran (verification asks for headroom given back); empty otherwise."""
    metric = EXHAUSTION_KINDS.get(incident.kind)
    if metric is None or attempt.service != incident.service or metric not in attempt.metrics_before:
        return {}
    return {metric: float(attempt.metrics_before[metric])}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def summarise(service: str, metric: str, values: list[float], baseline: float | None) -> MetricSummary | None:
    if not values:
        return None
    slope = (values[-1] - values[0]) / max(1, len(values) - 1) if len(values) > 1 else None
    return MetricSummary(
        service=service,
        metric=metric,
        last=values[-1],
        mean=sum(values) / len(values),
        max=max(values),
        baseline=baseline,
        slope_per_min=slope,
    )


def record_incident(incidents: IncidentsRepository, incident: IncidentMessage) -> None:
    """The incident as the queue message describes it, unless it is recorded already (the detector's record
    wins: it carries the signals)."""
    incidents.create_if_absent(
        IncidentRecord(
            incident_id=incident.incident_id,
            service=incident.service,
            kind=incident.kind,
            severity=incident.severity,
            opened_at=incident.opened_at.isoformat(),
            summary=incident.summary,
        )
    )


@dataclass
class Remediation:
    fleet: FleetAdapter
    remediations: RemediationsRepository
    decisions: AgentDecisionsRepository
    incidents: IncidentsRepository
    metrics: MetricReader
    planner: Planner
    limits: Callable[[], RemediationLimits]
    slots: RemediationSlots  # the concurrency limit, taken atomically
    clock: SimClock = field(default_factory=SimClock)
    now: Callable[[], float] = time.time
    # Secrets out of the SNS message (the tables' repositories redact what they store themselves).
    redact: Callable[[str], str] = field(default_factory=Redactor)
    # What the planner sees besides metrics (healops/remediation/evidence.py): the services' log lines, and the
    # dependency graph (service -> its dependencies) for dependents; without them, none and direct dependencies.
    logs: LogReader | None = None
    graph: Mapping[str, Sequence[str]] | None = None
    # Telling people (healops/notify/announce.py): approvals waiting, actions taken, fixes that did not verify,
    # resolutions and escalations; it never raises and never waits for a sink.
    announce: Announcer = no_announcer

    # ---- helpers ---------------------------------------------------------------------------------

    @property
    def tick_real_s(self) -> float:
        return self.clock.tick_seconds / self.clock.time_scale

    def _sim_now(self) -> float:
        return self.now() * self.clock.time_scale

    def _step(self, incident_id: str, phase: str, title: str, detail: str = "", **data: Any) -> None:
        # Redacted before it is cut: the repository redacts again, but cannot tell half a secret.
        title, detail = self.redact(title)[:200], self.redact(detail)[:2000]
        step = DecisionStep(phase=phase, title=title, detail=detail, actor=ACTOR, data=data)  # type: ignore[arg-type]
        self.decisions.append(incident_id, [step], _iso(self.now()))

    def _latest(self, service: str, metrics: tuple[str, ...] = SERVICE_METRICS, ticks: int = 3) -> dict[str, float]:
        end = self.now()
        series = self.metrics.series(service, metrics, end - ticks * self.tick_real_s, end)
        return {m: v[-1] for m, v in series.items() if v}

    def _announce(
        self, event: NotificationEvent, incident: IncidentMessage, summary: str, tried: Sequence[str]
    ) -> None:
        """Hand the event to the notifier; redacted like the SNS message (sinks are outside the stack). Telling
        people never fails the step it reports on."""
        try:
            notification = Notification(
                event=event,
                incident_id=incident.incident_id,
                service=incident.service,
                summary=self.redact(summary)[:1024] or event,
                tried=tuple(self.redact(t)[:300] for t in tried),
            )
        except ValueError as exc:
            logger.warning("notification not made", extra={"incident_id": incident.incident_id, "why": str(exc)})
            return
        self.announce(notification)

    def _move(self, incident_id: str, status: str, **fields: Any) -> None:
        """Move the incident along its lifecycle; a move it already made, or cannot make, is logged."""
        try:
            self.incidents.transition(incident_id, status, **fields)  # type: ignore[arg-type]
        except (InvalidTransitionError, ConditionFailedError, LookupError) as exc:
            logger.info("incident not moved", extra={"incident_id": incident_id, "to": status, "why": str(exc)})

    def record_incident(self, incident: IncidentMessage) -> None:
        record_incident(self.incidents, incident)

    # ---- plan ------------------------------------------------------------------------------------

    def context(
        self,
        incident: IncidentMessage,
        record: IncidentRecord | None = None,
        *,
        own_attempts: Sequence[RemediationAttempt] | None = None,
    ) -> IncidentContext:
        """What the planner sees: the signals and scores that opened the incident (its ``record``), the last
        ticks of metrics of the service and its dependencies, a few of the service's log lines from around the
        opening, the graph around the service (dependencies and dependents), past remediations, a recent deploy
        and the catalog. ``own_attempts``: the incident's recorded attempts, when the caller has read them."""
        view = self.fleet.describe(incident.service)
        services = [incident.service, *view.depends_on]
        end = self.now()
        start = end - CONTEXT_TICKS * self.tick_real_s
        summaries: list[MetricSummary] = []
        graph = (
            graph_around(self.graph, incident.service)
            if self.graph is not None and incident.service in self.graph
            else {incident.service: list(view.depends_on)}
        )
        # Log lines from a few ticks before the opening; a reopened (or late) plan reads the latest ticks instead.
        logs_from = max(incident.opened_at.timestamp() - LOG_LEAD_TICKS * self.tick_real_s, start)
        logs = self.logs.excerpts(incident.service, logs_from, end) if self.logs is not None else []
        for service in services:
            baselines = self._baselines(view) if service == incident.service else {}
            for metric, values in self.metrics.series(service, SERVICE_METRICS, start, end).items():
                summary = summarise(service, metric, values, baselines.get(metric))
                if summary:
                    summaries.append(summary)
        deploys = []
        deployed_at = view.extra.get("deployed_at")
        if deployed_at and view.previous_version:
            minutes = max(0.0, (end - _epoch(deployed_at)) * self.clock.time_scale / 60.0)
            deploys.append(
                RecentDeploy(
                    service=incident.service,
                    version=view.version,
                    previous_version=view.previous_version,
                    minutes_before=minutes,
                )
            )
        # A reopened incident's own earlier attempts first (they did not hold), then the service's latest.
        own = own_attempts if own_attempts is not None else self._own_attempts(incident)
        latest = self.remediations.latest_attempts(incident.service, limit=10)
        catalog_names = {s.name for s in catalog_specs()}
        seen: set[tuple[str, str]] = set()
        history = []
        for attempt in [*own, *latest]:
            key = (attempt.incident_id, attempt.attempt_id)
            if key in seen or attempt.outcome not in ACTED_OUTCOMES or attempt.action not in catalog_names:
                continue
            seen.add(key)
            history.append(
                PastRemediation(
                    kind=attempt.incident_kind[:64],
                    service=attempt.service,
                    action=attempt.action,
                    outcome="resolved" if attempt.verification == "recovered" else "failed",
                    this_incident=attempt.incident_id == incident.incident_id,
                )
            )
        return IncidentContext(
            incident_id=incident.incident_id,
            episode=incident.episode,
            service=incident.service,
            kind=incident.kind,
            severity=incident.severity,
            opened_at=incident.opened_at.isoformat(),
            summary=incident.summary or (record.summary if record else ""),
            root_reason=record.root_reason[:500] if record else "",
            linked=[s for s in record.linked_services if s != incident.service] if record else [],
            signals=incident_signals(record),
            metrics=summaries,
            logs=logs,
            graph=graph,
            catalog=catalog_specs(),
            history=history,
            deploys=deploys,
        )

    def _baselines(self, view: ServiceView) -> dict[str, float]:
        """The service's normal levels from its capacity plan: P99 latency, and requests a tick at the planned
        rate (so a surge reads as a multiple of what the service was sized for)."""
        baselines: dict[str, float] = {}
        try:
            if view.extra.get("latency_p99_baseline_ms") is not None:
                baselines["LatencyP99"] = float(view.extra["latency_p99_baseline_ms"])
            if view.extra.get("baseline_rps") is not None:
                baselines["RequestCount"] = float(view.extra["baseline_rps"]) * self.clock.tick_seconds
        except (TypeError, ValueError):
            pass  # a plan the adapter could not give in numbers: no baseline rather than a wrong one
        return baselines

    def _own_attempts(self, incident: IncidentMessage) -> list[RemediationAttempt]:
        """The incident's attempts recorded before this episode (none are, on its first). This episode's own are
        left out: a plan step run again (an execution restarted after a restore) must number its attempts as the
        first run did, so the guard finds them. (An attempt recorded before attempts carried their episode counts
        as an earlier one.)"""
        if not incident.episode:
            return []
        attempts = self.remediations.incident_attempts(incident.incident_id)
        return [a for a in attempts if a.episode < incident.episode]

    def plan(self, incident: IncidentMessage, deadline: float | None = None, *, record: bool = True) -> RunState:
        """Plan the incident. ``deadline`` (a ``time.monotonic()`` instant: the Lambda's end, less a margin)
        bounds the planner's wait for a model; the offline reasoner answers in time when it comes. ``record``:
        record the incident first; the deployed planner, which may not write the incidents table, plans with
        False (the remediator recorded it before it started the execution)."""
        if record:
            self.record_incident(incident)
        limits = self.limits()
        # A reopened incident's earlier attempts keep their ids: number the new ones after them.
        own = self._own_attempts(incident)
        first_attempt = len(own)
        if incident.episode > limits.max_reopens:
            return self._beyond_reopens(incident, limits, first_attempt)
        context = self.context(incident, self.incidents.get(incident.incident_id), own_attempts=own)
        outcome = self.planner(context, deadline)
        plan = outcome.plan
        run = RunState(
            incident=incident,
            planner=f"{outcome.provider}:{outcome.model}",
            # The run is the execution's state (kept in its history): a model's words are redacted like the tables'.
            diagnosis=self.redact(f"{plan.diagnosis.fault_kind}: {plan.diagnosis.root_cause}"),
            candidates=[
                Candidate(
                    action=a.action, service=a.service, parameters=a.parameters, rationale=self.redact(a.rationale)
                )
                for a in plan.actions
            ],
            max_attempts=limits.max_attempts,
            first_attempt=first_attempt,
            dry_run=limits.dry_run,
            wait_s=int(self.clock.tick_seconds),
        )
        run.route = Route.GUARD if run.candidates else Route.ESCALATE
        if not run.candidates:
            spent = sorted({f"{p.action} on {p.service}" for p in context.history if p.this_incident})
            held = f": what it tried before it reopened ({', '.join(spent)}) did not hold" if spent else ""
            run.tried.append(f"the planner proposed no action{held}")
        return run

    def _beyond_reopens(self, incident: IncidentMessage, limits: RemediationLimits, first_attempt: int) -> RunState:
        """A run that goes straight to the humans: the incident reopened more often than the limit allows."""
        run = RunState(
            incident=incident,
            planner="none",
            max_attempts=limits.max_attempts,
            first_attempt=first_attempt,
        )
        run.route = Route.ESCALATE
        run.tried.append(
            f"reopened {incident.episode} times after fixes that verified and did not hold (the limit is "
            f"{limits.max_reopens}): it needs a fix the catalog does not have"
        )
        return run

    # ---- guard -----------------------------------------------------------------------------------

    def snapshot(self, run: RunState, service: str) -> GuardSnapshot:
        """Cooldown and breaker from the service's attempts of *other* incidents (by_service GSI). What is in
        flight is not counted here: a slot is taken atomically once the rest of the guard allows (see guard)."""
        last: float | None = None
        failures: list[float] = []
        for attempt in self.remediations.latest_attempts(service, limit=50):
            if attempt.incident_id == run.incident.incident_id or attempt.dry_run:
                continue
            at = _epoch(attempt.ended_at or attempt.started_at) * self.clock.time_scale
            if attempt.outcome in ACTED_OUTCOMES:
                last = at if last is None else max(last, at)
            if attempt.verification == "not_recovered" or attempt.outcome == AttemptOutcome.FAILED:
                failures.append(at)
        return GuardSnapshot(
            now=self._sim_now(),
            last_action_at={service: last} if last is not None else {},
            failures_at={service: failures},
        )

    def _size_scale_out(self, candidate: Candidate, view: ServiceView) -> ActionRequest:
        """Fill in the replicas a scale-out adds from the traffic the service takes now."""
        requests = self._latest(candidate.service, ("RequestCount",)).get("RequestCount")
        add = replicas_to_add(view.replicas, view.extra, requests, self.clock.tick_seconds)
        if add is not None:
            candidate.parameters = {**candidate.parameters, "replicas": add}
        return validate_proposal(candidate.action, candidate.service, candidate.parameters)

    def _next(self, run: RunState, line: str, backoff: bool = True) -> RunState:
        run.tried.append(line)
        run.index += 1
        run.current = None
        exhausted = run.index >= len(run.candidates) or run.attempts >= run.max_attempts
        run.route = Route.ESCALATE if exhausted else Route.NEXT
        # Backoff between candidates: one tick, doubling with each attempt.
        run.wait_s = int(self.clock.tick_seconds * (2 ** max(0, run.attempts - 1))) if backoff else 0
        return run

    def guard(self, run: RunState) -> RunState:
        incident_id = run.incident.incident_id
        if run.index >= len(run.candidates) or run.attempts >= run.max_attempts:
            run.route = Route.ESCALATE
            return run
        candidate = run.candidates[run.index]
        run.attempts += 1
        number = run.first_attempt + run.attempts
        recorded = self.remediations.get(incident_id, attempt_id(number, candidate.action))
        if recorded is not None:
            return self._resume(run, recorded)
        limits = self.limits()
        record = RemediationAttempt(
            incident_id=incident_id,
            attempt_id=attempt_id(number, candidate.action),
            service=candidate.service,
            action=candidate.action,
            params=candidate.parameters,
            planner=run.planner,
            rationale=candidate.rationale,
            guard_decision=GuardDecision.DENY,
            dry_run=limits.dry_run or run.dry_run,
            started_at=_iso(self.now()),
            incident_kind=run.incident.kind,
            episode=run.incident.episode,
        )
        try:
            request = validate_proposal(candidate.action, candidate.service, candidate.parameters)
            view = self.fleet.describe(candidate.service)
            if candidate.action == "scale_out" and not candidate.parameters.get("replicas"):
                request = self._size_scale_out(candidate, view)
                record = record.model_copy(update={"params": candidate.parameters})
            unmet = request.entry.unmet_preconditions(view, request.params)
        except (InvalidProposalError, UnknownServiceError) as exc:
            unmet = [str(exc)]
        if unmet:
            record = record.model_copy(
                update={"guard_reasons": unmet, "outcome": AttemptOutcome.SKIPPED, "ended_at": record.started_at}
            )
            self.remediations.record(record)
            self._step(
                incident_id,
                "skipped",
                f"{candidate.action} on {candidate.service}: precondition unmet",
                "; ".join(unmet),
            )
            return self._next(
                run, f"{candidate.action} on {candidate.service}: skipped ({'; '.join(unmet)})", backoff=False
            )
        policy = limits.guard_policy()
        blast, cooldown_s = request.entry.blast_radius, request.entry.cooldown_s  # the action's own cooldown
        own = run.incident.service
        left = replicas_left(view, request.params) if request.entry.fleet_action == "scale_in" else None
        # One incident in flight per service, taken before the history is read: a second incident cannot pass the
        # cooldown on the strength of an index that does not show the first one's attempt yet.
        busy_with = None if record.dry_run else self.slots.hold_service(candidate.service, incident_id, self.now())
        snapshot = self.snapshot(run, candidate.service)
        verdict = decide(policy, snapshot, candidate.service, candidate.action, blast, cooldown_s, own, left)
        if busy_with is not None:
            verdict = GuardVerdict(GuardDecision.DENY, (_busy_reason(candidate.service, busy_with),), policy.dry_run)
        kind_refusal = self._kind_refusal(candidate.service, request.entry.fleet_action)
        if kind_refusal is not None:
            # A real target of a kind the action means nothing to (healops/targets/fleet.py): no policy allows it.
            verdict = GuardVerdict(GuardDecision.DENY, (kind_refusal,), policy.dry_run)
        if verdict.decision != GuardDecision.DENY and not verdict.dry_run:
            # Counting in-flight incidents and then acting lets two guards both see room: take a slot instead.
            slot = self.slots.acquire(incident_id, policy.max_concurrent, self.now())
            if not slot.acquired:
                busy = replace(snapshot, in_flight=max(len(slot.holders), policy.max_concurrent))
                verdict = decide(policy, busy, candidate.service, candidate.action, blast, cooldown_s, own, left)
        record = record.model_copy(update={"guard_decision": verdict.decision, "guard_reasons": list(verdict.reasons)})
        self._step(
            incident_id,
            "guarded",
            f"guard: {verdict.decision} {candidate.action} on {candidate.service}",
            "; ".join(verdict.reasons),
            dry_run=verdict.dry_run,
        )
        run.current = CurrentAttempt(attempt_id=record.attempt_id, action=candidate.action, service=candidate.service)
        if verdict.decision == GuardDecision.DENY:
            record = record.model_copy(update={"outcome": AttemptOutcome.REFUSED, "ended_at": record.started_at})
            self.remediations.record(record)
            return self._next(
                run, f"{candidate.action} on {candidate.service}: refused ({'; '.join(verdict.reasons)})", backoff=False
            )
        if verdict.dry_run:
            record = record.model_copy(
                update={"outcome": AttemptOutcome.DRY_RUN, "verification": "skipped", "ended_at": record.started_at}
            )
            self.remediations.record(record)
            return self._next(run, f"{candidate.action} on {candidate.service}: dry run, not executed", backoff=False)
        self.remediations.record(record)
        self._move(incident_id, "remediating")
        run.route = Route.AWAIT_APPROVAL if verdict.decision == GuardDecision.NEEDS_APPROVAL else Route.ACT
        return run

    def _kind_refusal(self, service: str, fleet_action: str | None) -> str | None:
        if fleet_action is None or not isinstance(self.fleet, KindAwareFleet):
            return None
        return self.fleet.refuses(service, fleet_action)

    def _resume(self, run: RunState, recorded: RemediationAttempt) -> RunState:
        """Go on from what ``recorded`` says, instead of guarding it afresh: the execution is running this
        incident again from its start (the embedded cloud restarted it after a restore, or the guard step is
        retried). An attempt that is over stays over; one a human approved acts (the act step checks again and
        acts once); one that acted goes on to verify; only one still waiting for an answer asks again (a new
        task token replaces the old, which died with the execution that held it)."""
        incident_id = run.incident.incident_id
        run.current = CurrentAttempt(attempt_id=recorded.attempt_id, action=recorded.action, service=recorded.service)
        approval = getattr(recorded, "approval", None)
        what = f"{recorded.action} on {recorded.service}"
        if recorded.outcome == AttemptOutcome.VERIFIED:
            run.tried.append(f"{what}: recovered")
            self._move(incident_id, "resolved")
            self.release_holds(run.incident, run)
            run.route = Route.RESOLVED
            return run
        if recorded.outcome not in PENDING_OUTCOMES:
            return self._next(run, f"{what}: {recorded.outcome}", backoff=False)
        if approval == "denied" and recorded.outcome != AttemptOutcome.ACTED:
            return self.approval_denied(run, f"denied by {getattr(recorded, 'approval_by', None) or 'a human'}")
        if (
            recorded.outcome == AttemptOutcome.ACTED
            or recorded.guard_decision == GuardDecision.ALLOW
            or approval == "approved"
        ):
            run.route = Route.ACT
        else:
            run.route = Route.AWAIT_APPROVAL
        self._step(
            incident_id,
            "guarded",
            f"guard: {what} carried on from its record ({recorded.outcome}, approval {approval or 'none'})",
        )
        return run

    # ---- approval --------------------------------------------------------------------------------

    def await_approval(self, run: RunState, task_token: str) -> None:
        """Store the token on the attempt: a human (the dashboard) answers SendTaskSuccess/Failure with it."""
        assert run.current is not None
        attempt = self._attempt(run)
        self.remediations.update(attempt, outcome=AttemptOutcome.AWAITING_APPROVAL, task_token=task_token)
        self._step(
            run.incident.incident_id,
            "awaiting_approval",
            f"{attempt.action} on {attempt.service} waits for a human's approval",
            "; ".join(attempt.guard_reasons),
            attempt_id=attempt.attempt_id,
        )
        why = "; ".join(attempt.guard_reasons)
        self._announce(
            "approval_waiting",
            run.incident,
            f"{attempt.action} on {attempt.service} waits for a human's approval" + (f" ({why})" if why else ""),
            run.tried,
        )

    def approval_denied(self, run: RunState, cause: str) -> RunState:
        attempt = self._attempt(run)
        cause = self.redact(cause)  # a human's words: redacted before they are cut
        self.remediations.update(
            attempt, outcome=AttemptOutcome.DENIED, task_token=None, ended_at=_iso(self.now()), error=cause[:500]
        )
        self._step(run.incident.incident_id, "denied", f"{attempt.action} on {attempt.service}: approval denied", cause)
        return self._next(
            run, f"{attempt.action} on {attempt.service}: a human denied it ({cause[:200]})", backoff=False
        )

    def _attempt(self, run: RunState) -> RemediationAttempt:
        assert run.current is not None, "no current attempt in the run"
        found = self.remediations.get(run.incident.incident_id, run.current.attempt_id)
        if found is None:
            raise LookupError(f"attempt {run.current.attempt_id} of {run.incident.incident_id} is not recorded")
        return found

    # ---- act -------------------------------------------------------------------------------------

    def _refusal_at_act(self, run: RunState, attempt: RemediationAttempt) -> list[str]:
        """Why ``attempt`` may not act now (empty when it may): the guard's checks again, as things stand at the
        moment of acting (an approval can come minutes after the guard), and that the guard allowed it or a
        human approved it (a direct invocation of this step with a made-up run gets nothing)."""
        approval = getattr(attempt, "approval", None)
        if attempt.outcome not in PENDING_OUTCOMES:
            return [f"the attempt is already over (outcome {attempt.outcome})"]
        if not (
            attempt.guard_decision == GuardDecision.ALLOW
            or (attempt.guard_decision == GuardDecision.NEEDS_APPROVAL and approval)
        ):
            return [
                f"{attempt.action} on {attempt.service} was never allowed or approved "
                f"(guard decision {attempt.guard_decision}, approval {approval or 'none'})"
            ]
        if approval is not None and approval != "approved":
            return [f"a human answered {approval}, not approved"]
        limits = self.limits()
        if limits.dry_run or run.dry_run or attempt.dry_run:
            return ["dry-run mode is on now: planned and audited, not executed"]
        policy, entry = limits.guard_policy(), catalog_entry(attempt.action)
        incident_id, now = run.incident.incident_id, self.now()
        busy_with = self.slots.hold_service(attempt.service, incident_id, now)
        if busy_with is not None:
            return [_busy_reason(attempt.service, busy_with)]
        request = validate_proposal(attempt.action, attempt.service, attempt.params)
        left = None
        if entry.fleet_action == "scale_in":
            left = replicas_left(self.fleet.describe(attempt.service), request.params)
        verdict = decide(
            policy,
            self.snapshot(run, attempt.service),
            attempt.service,
            attempt.action,
            entry.blast_radius,
            entry.cooldown_s,
            run.incident.service,
            left,
        )
        if verdict.decision == GuardDecision.DENY:
            return list(verdict.reasons)
        if verdict.decision == GuardDecision.NEEDS_APPROVAL and approval != "approved":
            return [f"the policy now asks a human to approve it: {verdict.reasons[-1]}"]
        slot = self.slots.acquire(incident_id, policy.max_concurrent, now)
        if not slot.acquired:
            return [f"{len(slot.holders)} remediations in flight, at most {policy.max_concurrent} at once"]
        return []

    def _refused_at_act(self, run: RunState, attempt: RemediationAttempt, why: str) -> None:
        """Record that ``attempt`` was refused at the act step, and why (unless it is over or acted already)."""
        if attempt.outcome in PENDING_OUTCOMES and attempt.outcome != AttemptOutcome.ACTED:
            self.remediations.update(
                attempt,
                outcome=AttemptOutcome.REFUSED_AT_ACT,
                error=why[:500],
                ended_at=_iso(self.now()),
                task_token=None,
            )
        self._step(
            run.incident.incident_id, "guarded", f"guard at act: refused {attempt.action} on {attempt.service}", why
        )

    def _merged_into(self, incident_id: str) -> str | None:
        """The incident this one was merged into since it was planned (the detector found its service's symptoms
        are a dependency's fault: healops/detection/correlate.py rule 5), or None."""
        current = self.incidents.get(incident_id)
        return current.merged_into if current is not None else None

    def _merged(self, run: RunState, attempt: RemediationAttempt, merged_into: str) -> RunState:
        """Stop without acting: the fault is a dependency's, remediated under ``merged_into``; nobody is paged."""
        why = f"the incident was merged into {merged_into}: {run.incident.service}'s symptoms are a dependency's fault"
        self._refused_at_act(run, attempt, why)
        run.tried.append(f"{attempt.action} on {attempt.service}: not acted ({why})")
        run.current = None
        self.release_holds(run.incident, run)
        run.route = Route.RESOLVED
        return run

    def act(self, run: RunState) -> RunState:
        attempt = self._attempt(run)
        entry = catalog_entry(attempt.action)
        request = validate_proposal(attempt.action, attempt.service, attempt.params)
        merged_into = self._merged_into(run.incident.incident_id)
        if merged_into is not None:
            return self._merged(run, attempt, merged_into)
        refused = self._refusal_at_act(run, attempt)
        if refused:
            why = "; ".join(refused)
            self._refused_at_act(run, attempt, why)
            return self._next(run, f"{attempt.action} on {attempt.service}: refused when acting ({why})", False)
        before = self._latest(attempt.service)
        if attempt.outcome == AttemptOutcome.AWAITING_APPROVAL:
            self._step(run.incident.incident_id, "approved", f"{attempt.action} on {attempt.service} approved")
        # What a real target's action asked for (healops/targets): verify reads the resource back against it.
        target_record: dict[str, Any] | None = None
        try:
            if entry.fleet_action is None:
                message = f"observing {attempt.service}, no change"
            else:
                if entry.compensation is not None and attempt.view_before is None:
                    # before acting (a retried act after a crash must not take the changed service for the old)
                    attempt = self.remediations.update(
                        attempt, view_before=view_before(self.fleet.describe(attempt.service))
                    )
                outcome = self.fleet.apply(
                    attempt.service,
                    entry.fleet_action,  # type: ignore[arg-type]
                    entry.fleet_params(request.params),
                    operation_id=f"{attempt.incident_id}/{attempt.attempt_id}",
                )
                message = outcome.message
                if isinstance(self.fleet, KindAwareFleet) and "expected" in outcome.changed:
                    target_record = outcome.changed
        except (InvalidActionError, UnknownServiceError) as exc:
            self.remediations.update(
                attempt,
                outcome=AttemptOutcome.FAILED,
                error=self.redact(str(exc))[:500],
                ended_at=_iso(self.now()),
                metrics_before=before,
                task_token=None,
            )
            self._step(run.incident.incident_id, "acted", f"{attempt.action} on {attempt.service} failed", str(exc))
            return self._next(run, f"{attempt.action} on {attempt.service}: failed ({exc})")
        acted_at = self.now()
        self.remediations.update(
            attempt,
            outcome=AttemptOutcome.ACTED,
            metrics_before=before,
            acted_at=_iso(acted_at),
            task_token=None,
            **({"target_record": target_record} if target_record is not None else {}),
        )
        self._step(run.incident.incident_id, "acted", message, data_before=before)  # type: ignore[arg-type]
        self._announce("action_taken", run.incident, f"{attempt.action} on {attempt.service}: {message}", run.tried)
        run.current = CurrentAttempt(
            attempt_id=attempt.attempt_id,
            action=attempt.action,
            service=attempt.service,
            acted_at=acted_at,
            acted_tick=self.clock.tick_at(acted_at),
        )
        run.route = Route.WAIT
        rule = entry.verification_for(request.params)
        run.wait_s = int(self.clock.tick_seconds * (rule.settle_ticks + rule.stable_ticks))
        return run

    # ---- verify ----------------------------------------------------------------------------------

    def verify(self, run: RunState) -> RunState:
        assert run.current is not None and run.current.acted_at is not None
        attempt = self._attempt(run)
        request = validate_proposal(attempt.action, attempt.service, attempt.params)
        rule = request.entry.verification_for(request.params)
        ticks = self.clock.now_tick() - (run.current.acted_tick or 0)
        read_back = self._read_back(attempt, ticks, rule.settle_ticks + rule.stable_ticks + READ_BACK_GRACE_TICKS)
        if read_back == "wait":
            run.route = Route.WAIT
            run.wait_s = int(self.clock.tick_seconds)
            return run
        start = run.current.acted_at + rule.settle_ticks * self.tick_real_s
        headroom = _headroom(run.incident, attempt)
        series = self.metrics.series(
            attempt.service, tuple(dict.fromkeys((*rule.metrics, *headroom))), start, self.now()
        )
        baseline = self.fleet.describe(attempt.service).extra.get("latency_p99_baseline_ms")
        result = verify(rule, series, ticks, baseline, headroom)
        if read_back is not None:
            # The resource does not show what the action asked for: whatever the metrics say, not a recovery.
            result = replace(result, status="not_recovered", detail=f"{read_back}; {result.detail}")
        if result.status == "pending":
            run.route = Route.WAIT
            run.wait_s = int(self.clock.tick_seconds)
            return run
        ended = _iso(self.now())
        recovered = result.status == "recovered"
        attempt = self.remediations.update(
            attempt,
            verification=result.status,
            outcome=AttemptOutcome.VERIFIED if recovered else AttemptOutcome.NOT_RECOVERED,
            metrics_after=result.last,
            ended_at=ended,
            verification_detail=result.detail,
        )
        self._step(
            run.incident.incident_id,
            "verified",
            f"{attempt.action} on {attempt.service}: {result.status}",
            result.detail,
        )
        if not recovered:
            line = f"{attempt.action} on {attempt.service}: not recovered ({result.detail[:300]})"
            undone = self._compensate(run, attempt)
            self._announce("verification_failed", run.incident, f"{line}; {undone}" if undone else line, run.tried)
            return self._next(run, f"{line}; {undone}" if undone else line)
        run.tried.append(f"{attempt.action} on {attempt.service}: recovered ({result.detail[:300]})")
        self._move(run.incident.incident_id, "resolved")
        self.release_holds(run.incident, run)
        compensation = catalog_entry(attempt.action).compensation
        kept = (
            f"{attempt.action} stays in effect: {compensation.note} by hand once it is no longer needed"
            if compensation is not None and attempt.view_before is not None
            else ""
        )
        self._step(run.incident.incident_id, "resolved", f"resolved by {attempt.action} on {attempt.service}", kept)
        self._announce("resolved", run.incident, f"resolved by {attempt.action} on {attempt.service}", run.tried)
        run.route = Route.RESOLVED
        return run

    def _read_back(self, attempt: RemediationAttempt, ticks: int, patience_ticks: int) -> str | None:
        """A real target's resource read back (healops/targets): None when it shows what the action asked for
        (or the service is simulated), "wait" while it rolls out, else why the action did not take."""
        record = getattr(attempt, "target_record", None)
        if not record or not isinstance(self.fleet, KindAwareFleet):
            return None
        verdict = self.fleet.confirm(attempt.service, record)
        if verdict is None or verdict.status is VerdictStatus.TAKEN:
            return None
        if verdict.status is VerdictStatus.IN_PROGRESS:
            if ticks <= patience_ticks:
                return "wait"
            return f"read back after {ticks} ticks, still rolling out: {verdict.reason}"
        return f"read back, the action did not take: {verdict.reason}"

    def _compensate(self, run: RunState, attempt: RemediationAttempt) -> str | None:
        """Undo an action that did not help where the catalog says how (added replicas removed, removed ones
        added back, a throttle lifted), so a failed attempt leaves no change behind for the next candidate or
        the human; what was done, or None when the action has nothing to undo."""
        compensation = catalog_entry(attempt.action).compensation
        if compensation is None or attempt.view_before is None or attempt.dry_run:
            return None
        incident_id = run.incident.incident_id
        try:
            params = compensation.params(attempt.view_before, self.fleet.describe(attempt.service))
            if params is None:
                note = f"{attempt.action} left nothing to undo"
            else:
                outcome = self.fleet.apply(
                    attempt.service,
                    compensation.fleet_action,  # type: ignore[arg-type]
                    params,
                    operation_id=f"{attempt.incident_id}/{attempt.attempt_id}/undo",  # a retried verify: once
                )
                note = f"undone ({compensation.note}): {outcome.message} {params}"
        except (InvalidActionError, UnknownServiceError) as exc:
            note = f"could not undo {attempt.action} ({compensation.note}): {exc}"
        self.remediations.update(attempt, compensation=note[:500])
        self._step(incident_id, "compensated", f"{attempt.action} on {attempt.service}: {note}"[:200], note)
        return note

    def release_holds(self, incident: IncidentMessage, run: RunState | None) -> None:
        """Give back the concurrency slot and the locks of every service the run's candidates touched."""
        self.slots.release(incident.incident_id)
        services = {c.service for c in run.candidates} if run is not None else set()
        self.slots.release_services(incident.incident_id, services | {incident.service})

    # ---- escalate --------------------------------------------------------------------------------

    def escalate(self, incident: IncidentMessage, run: RunState | None, error: dict[str, Any] | None) -> dict[str, str]:
        """Mark the incident escalated, with the reason in one line; the SNS subject and a readable message for
        humans (what happened, why it stopped, what was tried, the service now), secrets redacted.

        ``error`` is what the state machine caught (``{"Error", "Cause"}``) when a step failed or timed out;
        ``run`` is the run as the last step that succeeded left it (None when planning failed)."""
        tried = run.tried if run else []
        current = self.incidents.get(incident.incident_id)
        if current is None:  # planning failed before it recorded the incident: record it, so it can be escalated
            self.record_incident(incident)
        reason = self._escalation_reason(run, error)
        if error and run is not None and run.current is not None:
            self._close_interrupted(run, reason)
        try:
            view = self.fleet.describe(incident.service)
            state = f"{view.replicas} replicas, version {view.version}, last action {view.last_action or 'none'}"
            latest = self._latest(incident.service)
            metrics = ", ".join(f"{m} {v:g}" for m, v in latest.items()) or "no recent metrics"
        except Exception as exc:  # the summary must go out even when the fleet or metrics cannot be read
            state, metrics = f"unknown ({exc})", "unavailable"
        lines = [
            f"Heal-Ops could not remediate incident {incident.incident_id} and hands it to a human.",
            "",
            f"What happened: {incident.kind} on {incident.service} ({incident.severity}), "
            f"opened {incident.opened_at.isoformat()}.",
            f"Why it was escalated: {reason}.",
        ]
        if incident.summary:
            lines.append(f"Summary: {incident.summary}")
        if run:
            lines.append(f"Diagnosis ({run.planner}): {run.diagnosis}")
            if run.dry_run:
                lines.append("Dry-run mode: actions were planned and guarded, none was executed.")
        lines.append("What was tried:")
        lines.extend(f"  {n}. {t}" for n, t in enumerate(tried, start=1))
        if not tried:
            lines.append("  nothing")
        lines.append(f"Current state of {incident.service}: {state}; metrics: {metrics}.")
        if current is not None:
            lines.append(f"Incident status before escalation: {current.status}.")
        message = self.redact("\n".join(lines))
        self._move(incident.incident_id, "escalated", escalation_reason=reason[:500])
        self.release_holds(incident, run)
        self._step(incident.incident_id, "escalated", f"escalated: {reason}", message)
        self._announce("escalated", incident, f"Why it was escalated: {reason}.", tried)
        subject = self.redact(f"Heal-Ops escalation: {incident.kind} on {incident.service}")[:99]
        return {"subject": subject, "message": message}

    def _escalation_reason(self, run: RunState | None, error: dict[str, Any] | None) -> str:
        """Why remediation stopped, in one line of at most 500 characters, redacted before it is cut (the
        incident keeps it; the dashboard shows it)."""
        return self.redact(self._why(run, error))[:500]

    @staticmethod
    def _why(run: RunState | None, error: dict[str, Any] | None) -> str:
        if error:
            step = FAILED_STEP.get(run.route, run.route) if run is not None else "plan"
            if step == "approval" and run is not None and run.current is not None and _name(error) in TIMEOUT_ERRORS:
                return (
                    f"nobody approved {run.current.action} on {run.current.service} before the approval timed out "
                    f"({_name(error)})"
                )
            if _name(error) in TIMEOUT_ERRORS:
                return f"the {step} step timed out ({_name(error)})"
            return f"the {step} step failed: {describe_error(error)}"
        if run is None:
            return "remediation did not start"
        if run.dry_run:
            return f"dry-run mode: {len(run.candidates)} candidate(s) planned and guarded, none executed"
        if not run.candidates:
            return run.tried[-1] if run.tried else "the planner proposed no action"
        last = f"; last: {run.tried[-1]}" if run.tried else ""
        if run.attempts >= run.max_attempts and run.index < len(run.candidates):
            return f"the limit of {run.max_attempts} attempts was reached without a recovery{last}"
        return f"no candidate recovered the service ({len(run.tried)} tried{last})"

    def _close_interrupted(self, run: RunState, reason: str) -> None:
        """End the attempt a failed or timed-out step left open: an approval nobody gave loses its task token
        (the dashboard stops offering it), an attempt that never acted is ``interrupted``."""
        try:
            attempt = self._attempt(run)
        except LookupError:
            return
        if attempt.ended_at is not None:
            return
        fields: dict[str, Any] = {"ended_at": _iso(self.now()), "error": reason[:500], "task_token": None}
        if attempt.outcome == AttemptOutcome.AWAITING_APPROVAL:
            timed_out = reason.startswith("nobody approved")
            fields["outcome"] = AttemptOutcome.APPROVAL_TIMED_OUT if timed_out else AttemptOutcome.INTERRUPTED
        elif attempt.outcome == AttemptOutcome.STARTED:
            fields["outcome"] = AttemptOutcome.INTERRUPTED
        self.remediations.update(attempt, **fields)


def _name(error: dict[str, Any]) -> str:
    return str(error.get("Error") or "unknown error")


def describe_error(error: dict[str, Any]) -> str:
    """A caught error in words: a Lambda failure's ``Cause`` is a JSON document (type, message, stack trace) of
    which the type and message say what went wrong; any other cause is quoted as it is. Not cut: the caller
    redacts before it shortens (half a secret is not recognisable)."""
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else cause
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return f"{parsed.get('errorType') or _name(error)}: {parsed['errorMessage']}"
    return f"{_name(error)}: {cause}" if cause else _name(error)
