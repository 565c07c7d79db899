"""A remediation world on in-memory fakes for the engine's tests: the simulated fleet (pure model), its per-tick
telemetry, a fake clock advanced by the test; the repositories on whatever DynamoDB client is given (moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from healops.fleet.actions import ActionOutcome, apply_action, next_version
from healops.fleet.adapter import ServiceView, UnknownServiceError
from healops.fleet.clock import SimClock
from healops.fleet.simulated import view_of
from healops.fleet.simulator import MORNING_TICK
from healops.llm.providers.offline import OfflineReasoner
from healops.llm.types import Diagnosis, IncidentContext, PlanOutcome, ProposedAction, ReasonerPlan
from healops.models.incident import IncidentMessage
from healops.remediation.engine import Remediation
from healops.remediation.policy import RemediationLimits
from healops.remediation.run import RunState
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.incidents import IncidentsRepository
from healops.store.remediations import RemediationsRepository
from healops.store.slots import RemediationSlots
from tests.unit.fleet.sim import Sim


class FakeTime:
    """Real seconds, advanced by the test: one tick of 60 simulated s is one real second (time scale 60)."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeClock(SimClock):
    def __init__(self, time: FakeTime) -> None:
        super().__init__(60.0, 60.0)
        self.time = time

    def now_tick(self) -> int:
        return self.tick_at(self.time())


class SimFleet:
    """The fleet adapter over the in-memory simulation; counts the actions it carried out."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.applied: list[tuple[str, str]] = []

    def services(self) -> list[str]:
        return list(self.sim.states)

    def describe(self, service: str) -> ServiceView:
        if service not in self.sim.states:
            raise UnknownServiceError(service)
        return view_of(self.sim.states[service])

    def apply(self, service: str, action: Any, params: dict | None = None, operation_id: str | None = None):
        state = self.sim.states[service]
        if operation_id and state.last_operation_id == operation_id:
            return ActionOutcome(action, service, {}, [], "already applied")
        new_state, outcome = apply_action(state, action, params, self.sim.tick, "")
        self.sim.states[service] = new_state.model_copy(update={"last_operation_id": operation_id})
        self.applied.append((service, action))
        return outcome


class SimMetrics:
    """Per-tick metrics of the simulation, stamped with the fake time of their tick."""

    def __init__(self) -> None:
        self.points: list[tuple[float, dict[str, dict[str, float]]]] = []

    def series(self, service: str, metrics: tuple[str, ...], start: float, end: float) -> dict[str, list[float]]:
        inside = [row[service] for at, row in self.points if start <= at <= end and service in row]
        return {m: [row[m] for row in inside] for m in metrics}


class World:
    def __init__(self, dynamodb: Any, limits: RemediationLimits, tick: int = MORNING_TICK) -> None:
        self.sim, self.time, self.metrics = Sim(tick=tick), FakeTime(), SimMetrics()
        self.fleet = SimFleet(self.sim)
        self.limits = limits
        self.engine = Remediation(
            fleet=self.fleet,
            remediations=RemediationsRepository("remediations", dynamodb),
            decisions=AgentDecisionsRepository("agent_decisions", dynamodb),
            incidents=IncidentsRepository("incidents", dynamodb),
            metrics=self.metrics,
            planner=self.plan,
            limits=lambda: self.limits,
            slots=RemediationSlots("remediations", dynamodb, self.status, stale_after_s=3600),
            clock=FakeClock(self.time),
            now=self.time,
        )

    def status(self, incident_id: str) -> str | None:
        record = self.engine.incidents.get(incident_id)
        return record.status if record else None

    @staticmethod
    def plan(context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
        return PlanOutcome(
            incident_id=context.incident_id,
            plan=OfflineReasoner().plan(context),
            provider="offline",
            requested_provider="offline",
            model="rules-v1",
        )

    def deployed(self, service: str, minutes_ago: int) -> None:
        """``service`` got a new version ``minutes_ago`` simulated minutes ago (one tick: one real second)."""
        state = self.sim.states[service]
        at = datetime.fromtimestamp(self.time.now - minutes_ago, UTC).isoformat()
        self.sim.states[service] = state.model_copy(
            update={"version": next_version(state.version), "previous_version": state.version, "deployed_at": at}
        )

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            self.time.now += 1.0
            self.metrics.points.append(
                (self.time.now, {s: {k: float(v) for k, v in t.metrics.items()} for s, t in self.sim.step().items()})
            )

    def run(self, incident: IncidentMessage, max_steps: int = 40) -> RunState:
        """Drive the steps as the state machine does (approvals granted at once)."""
        run = self.engine.plan(incident)
        for _ in range(max_steps):
            if run.route in ("resolved", "escalate"):
                return run
            if run.route in ("guard", "next"):
                run = self.engine.guard(run)
            elif run.route in ("act", "await_approval"):
                run = self.engine.act(run)
            elif run.route in ("wait", "verify"):
                self.tick(max(1, run.wait_s // 60))
                run = self.engine.verify(run)
        raise AssertionError(f"no end after {max_steps} steps: {run.route}")


def incident(service: str, kind: str, episode: int = 0, incident_id: str | None = None) -> IncidentMessage:
    return IncidentMessage(
        incident_id=incident_id or f"unit-{service}-{kind}",
        service=service,
        kind=kind,
        opened_at=datetime.now(UTC),
        severity="high",
        episode=episode,
    )


def planned(*actions: tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]) -> Any:
    """A planner proposing ``actions`` (action, parameters[, service: the incident's by default]) in order,
    whatever the incident (a reasoner that guessed wrong first)."""

    def plan(context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
        proposals = [
            ProposedAction(action=a[0], service=a[2] if len(a) > 2 else context.service, parameters=a[1])
            for a in actions
        ]
        diagnosis = Diagnosis(
            root_cause="test", fault_kind="unknown", affected_services=[context.service], confidence=0.5
        )
        return PlanOutcome(
            incident_id=context.incident_id,
            plan=ReasonerPlan(diagnosis=diagnosis, actions=proposals),
            provider="offline",
            requested_provider="offline",
            model="test",
        )

    return plan
