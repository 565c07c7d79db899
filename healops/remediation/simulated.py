"""The remediation engine on the simulated fleet, in one process: the steps the state machine takes, driven in a
loop, against the fleet model (no Lambda, no Step Functions), with a clock the caller advances.

One tick of 60 simulated seconds is one second of the manual clock (time scale 60, as in the e2e tests). The
repositories write to whatever DynamoDB client is given (moto in the unit tests and ``healops bench
remediation-sweep``), through the same boto3 calls as deployed. Used to test the engine's decisions and to sweep
them over every fault, service and time of day, which a deployed stack is far too slow for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from healops.fleet.actions import ActionOutcome, apply_action, next_version
from healops.fleet.adapter import ServiceView, UnknownServiceError
from healops.fleet.clock import SimClock
from healops.fleet.faults import fault_type
from healops.fleet.simulated import view_of
from healops.fleet.simulator import MORNING_TICK, Simulator
from healops.fleet.telemetry import ServiceTick
from healops.llm.providers.offline import OfflineReasoner
from healops.llm.types import IncidentContext, PlanOutcome
from healops.models.incident import IncidentMessage
from healops.remediation.engine import Remediation
from healops.remediation.policy import RemediationLimits
from healops.remediation.run import RunState
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.incidents import IncidentsRepository
from healops.store.remediations import RemediationsRepository
from healops.store.slots import RemediationSlots

TICK_SECONDS = 60.0
# The tables the engine writes, by their Terraform keys (healops.deploy.tables.create_tables makes them).
TABLES = ("incidents", "remediations", "agent_decisions", "llm_actions")


class ManualTime:
    """Seconds that pass only when the caller says so: one simulated tick is one second (time scale 60)."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


class ManualClock(SimClock):
    def __init__(self, time: ManualTime) -> None:
        super().__init__(TICK_SECONDS, TICK_SECONDS)
        self.time = time

    def now_tick(self) -> int:
        return self.tick_at(self.time())


class InMemoryFleet:
    """The fleet adapter over the in-memory model; counts the actions it carried out."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.applied: list[tuple[str, str]] = []

    def services(self) -> list[str]:
        return list(self.sim.states)

    def describe(self, service: str) -> ServiceView:
        if service not in self.sim.states:
            raise UnknownServiceError(service)
        return view_of(self.sim.states[service])

    def apply(
        self, service: str, action: Any, params: dict | None = None, operation_id: str | None = None
    ) -> ActionOutcome:
        state = self.sim.states[service]
        if operation_id and state.last_operation_id == operation_id:
            return ActionOutcome(action, service, {}, [], "already applied")
        new_state, outcome = apply_action(state, action, params, self.sim.tick, "")
        self.sim.states[service] = new_state.model_copy(update={"last_operation_id": operation_id})
        self.applied.append((service, action))
        return outcome


class SimulatedMetrics:
    """Each tick's metrics of the model, stamped with the manual time of their tick."""

    def __init__(self) -> None:
        self.points: list[tuple[float, dict[str, dict[str, float]]]] = []

    def series(self, service: str, metrics: tuple[str, ...], start: float, end: float) -> dict[str, list[float]]:
        inside = [row[service] for at, row in self.points if start <= at <= end and service in row]
        return {m: [row[m] for row in inside] for m in metrics}


def incident_message(service: str, kind: str, incident_id: str, episode: int = 0) -> IncidentMessage:
    """The incidents queue's message for ``service``, as the detector would send it (kind: its lead signal's)."""
    return IncidentMessage(
        incident_id=incident_id,
        service=service,
        kind=kind,
        opened_at=datetime.now(UTC),
        severity="high",
        episode=episode,
    )


def offline_plan(context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
    """The default planner: the offline reasoner, as a deployed remediator with no model key uses it."""
    return PlanOutcome(
        incident_id=context.incident_id,
        plan=OfflineReasoner().plan(context),
        provider="offline",
        requested_provider="offline",
        model=OfflineReasoner.model,
    )


class SimulatedRemediation:
    """A fleet model of ``size`` services (noise ``seed``) from ``tick``, and the engine remediating it."""

    def __init__(
        self, dynamodb: Any, limits: RemediationLimits, tick: int = MORNING_TICK, size: int = 8, seed: int = 7
    ) -> None:
        self.sim, self.time, self.metrics = Simulator(size, seed, tick, TICK_SECONDS), ManualTime(), SimulatedMetrics()
        self.fleet = InMemoryFleet(self.sim)
        self.limits = limits
        # Called with every tick's telemetry as it is made (a detector watching the fleet while the engine acts).
        self.watchers: list[Callable[[int, dict[str, ServiceTick]], None]] = []
        self.engine = Remediation(
            fleet=self.fleet,
            remediations=RemediationsRepository("remediations", dynamodb),
            decisions=AgentDecisionsRepository("agent_decisions", dynamodb),
            incidents=IncidentsRepository("incidents", dynamodb),
            metrics=self.metrics,
            planner=offline_plan,
            limits=lambda: self.limits,
            slots=RemediationSlots("remediations", dynamodb, self.status, stale_after_s=3600),
            clock=ManualClock(self.time),
            now=self.time,
        )

    def status(self, incident_id: str) -> str | None:
        record = self.engine.incidents.get(incident_id)
        return record.status if record else None

    def deployed(self, service: str, minutes_ago: int) -> None:
        """``service`` got a new version ``minutes_ago`` simulated minutes ago (one tick: one manual second)."""
        state = self.sim.states[service]
        self.sim.states[service] = state.model_copy(
            update={
                "version": next_version(state.version),
                "previous_version": state.version,
                "deployed_at": self._iso(minutes_ago),
            }
        )

    def inject(self, service: str, fault: str, **params: Any) -> None:
        """``fault`` on ``service`` from now, as the injector does it: a bad deploy is a deploy, stamped now."""
        self.sim.inject(service, fault, **params)
        if fault_type(fault).deploys_version:
            self.sim.states[service] = self.sim.states[service].model_copy(update={"deployed_at": self._iso(0)})

    def _iso(self, minutes_ago: float) -> str:
        """The manual clock ``minutes_ago`` simulated minutes back (one manual second each), as ISO-8601 UTC."""
        return datetime.fromtimestamp(self.time.now - minutes_ago, UTC).isoformat()

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            self.time.now += 1.0
            tick = self.sim.tick
            rows = self.sim.step()
            self.metrics.points.append(
                (self.time.now, {s: {k: float(v) for k, v in t.metrics.items()} for s, t in rows.items()})
            )
            for watch in self.watchers:
                watch(tick, rows)

    def approve(self, run: RunState, by: str = "bench") -> RunState:
        """What a human does at once on the dashboard: the token stored, the approval written (one conditional
        write, as the dashboard's), then the act step, which checks the approval is there."""
        assert run.current is not None
        self.engine.await_approval(run, task_token=f"simulated/{run.incident.incident_id}/{run.current.attempt_id}")
        attempt = self.engine.remediations.get(run.incident.incident_id, run.current.attempt_id)
        assert attempt is not None
        self.engine.remediations.answer_approval(attempt, "approved", by, datetime.now(UTC).isoformat())
        return self.engine.act(run)

    def run(self, incident: IncidentMessage, max_steps: int = 40, approve: bool = True) -> RunState:
        """Drive the steps as the state machine does to resolved or escalate. ``approve``: a human grants every
        approval at once; without one, a run that asks for a human ends there (route ``await_approval``)."""
        run = self.engine.plan(incident)
        for _ in range(max_steps):
            if run.route == "escalate":
                # The escalate step gives back the slot and the service locks; the incident's status is left as it
                # was (what the detector then does with it is what the benches count).
                self.engine.release_holds(incident, run)
                return run
            if run.route == "resolved" or (run.route == "await_approval" and not approve):
                return run
            if run.route in ("guard", "next"):
                run = self.engine.guard(run)
            elif run.route == "await_approval":
                run = self.approve(run)
            elif run.route == "act":
                run = self.engine.act(run)
            elif run.route in ("wait", "verify"):
                self.tick(max(1, run.wait_s // 60))
                run = self.engine.verify(run)
        raise RuntimeError(f"the run did not end after {max_steps} steps: it is at {run.route}")
