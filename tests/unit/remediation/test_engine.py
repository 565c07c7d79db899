"""The remediation engine's steps on in-memory fakes: a simulated fleet, its telemetry, a fake clock; the
repositories on moto. Plan -> guard -> act -> verify, driven step by step as the state machine would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.fleet.actions import ActionOutcome, apply_action
from healops.fleet.adapter import ServiceView, UnknownServiceError
from healops.fleet.clock import SimClock
from healops.fleet.simulated import view_of
from healops.llm.providers.offline import OfflineReasoner
from healops.llm.types import IncidentContext, PlanOutcome
from healops.models.incident import IncidentMessage
from healops.remediation.engine import Remediation
from healops.remediation.policy import RemediationLimits
from healops.remediation.run import RunState
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.incidents import IncidentRecord, IncidentsRepository
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
    def __init__(self, dynamodb: Any, limits: RemediationLimits) -> None:
        self.sim, self.time, self.metrics = Sim(), FakeTime(), SimMetrics()
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
    def plan(context: IncidentContext) -> PlanOutcome:
        return PlanOutcome(
            incident_id=context.incident_id,
            plan=OfflineReasoner().plan(context),
            provider="offline",
            requested_provider="offline",
            model="rules-v1",
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


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, ["incidents", "remediations", "agent_decisions"])
        yield client


def incident(service: str, kind: str, episode: int = 0, incident_id: str | None = None) -> IncidentMessage:
    return IncidentMessage(
        incident_id=incident_id or f"unit-{service}-{kind}",
        service=service,
        kind=kind,
        opened_at=datetime.now(UTC),
        severity="high",
        episode=episode,
    )


def test_a_surge_is_relieved_by_a_scale_out_sized_to_the_traffic_and_verified(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits())
    world.tick(5)
    world.sim.inject("search", "cpu_saturation")
    world.tick(1)
    # The detector sees the latency first and names the incident after it; the CPU explains it.
    run = world.run(incident("search", "latency"))
    assert run.route == "resolved", run.tried
    assert world.fleet.applied == [("search", "scale_out")]
    [attempt] = world.engine.remediations.for_incident("unit-search-latency").items
    assert attempt["verification"] == "recovered" and attempt["params"]["replicas"] > 4
    assert world.engine.incidents.get("unit-search-latency").status == "resolved"
    steps, _ = world.engine.decisions.for_incident("unit-search-latency")
    assert "stays in effect: remove the replicas it added" in steps[-1].detail  # the human is told what remains


def test_a_dependency_failure_is_fixed_by_the_next_candidate_after_a_restart_fails(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits())
    world.tick(5)
    world.sim.inject("ledger-db", "dependency_failure")
    world.tick(3)
    run = world.run(incident("ledger-db", "errors"))
    tried = [
        (a["action"], a["verification"]) for a in world.engine.remediations.for_incident("unit-ledger-db-errors").items
    ]
    assert run.route == "resolved", run.tried
    assert tried == [("restart_service", "not_recovered"), ("failover", "recovered")]


def test_dry_run_plans_and_records_but_never_acts(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits(dry_run=True))
    world.tick(5)
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    run = world.run(incident("auth", "disk"))
    assert run.route == "escalate" and world.fleet.applied == []
    items = world.engine.remediations.for_incident("unit-auth-disk").items
    assert items and all(i["outcome"] == "dry_run" for i in items)
    assert items[0]["action"] == "clear_disk"


def test_the_allow_list_refuses_and_the_refusal_is_recorded(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits(allowed_actions={"*": ["no_op_observe"]}))
    world.tick(5)
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    run = world.run(incident("auth", "disk"))
    assert run.route == "escalate" and world.fleet.applied == []
    [item] = world.engine.remediations.for_incident("unit-auth-disk").items
    assert item["outcome"] == "refused" and "allow-list" in " ".join(item["guard_reasons"])


def test_a_slot_is_held_while_remediating_and_given_back_at_the_end(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits(max_concurrent=1))
    world.tick(5)
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    # Another incident being remediated holds the only slot: nothing acts, the refusal says why.
    world.engine.incidents.create_if_absent(IncidentRecord(incident_id="busy-1", service="edge", kind="x"))
    world.engine.incidents.transition("busy-1", "remediating")
    assert world.engine.slots.acquire("busy-1", 1, world.time.now).acquired
    run = world.run(incident("auth", "disk"))
    assert run.route == "escalate" and world.fleet.applied == []
    [item] = world.engine.remediations.for_incident("unit-auth-disk").items
    assert item["outcome"] == "refused" and "1 remediations in flight, at most 1" in " ".join(item["guard_reasons"])
    # Once it is done the slot is free; a fix holds it while it runs and gives it back when verified.
    world.engine.slots.release("busy-1")
    run = world.run(incident("auth", "disk", incident_id="unit-auth-disk-2"))
    assert run.route == "resolved" and world.fleet.applied == [("auth", "clear_disk")]
    assert world.engine.slots.holders() == {}


def test_a_retried_act_does_not_act_twice(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits())
    world.tick(5)
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    run = world.engine.guard(world.engine.plan(incident("auth", "disk")))
    first = world.engine.act(run.model_copy(deep=True))
    world.engine.act(run.model_copy(deep=True))  # the same step delivered again, after the fleet changed
    assert world.fleet.applied == [("auth", "clear_disk")] and first.route == "wait"


def test_a_reopened_incident_numbers_its_attempts_after_the_earlier_episode(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits(cooldown_s=0))
    world.tick(5)
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    assert world.run(incident("auth", "disk")).route == "resolved"
    world.engine.incidents.transition("unit-auth-disk", "open")
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    assert world.run(incident("auth", "disk", episode=1)).route == "resolved"
    ids = [a["attempt_id"] for a in world.engine.remediations.for_incident("unit-auth-disk").items]
    assert ids == ["0001-clear_disk", "0002-clear_disk"]
    assert world.fleet.applied == [("auth", "clear_disk"), ("auth", "clear_disk")]


def planned(*actions: tuple[str, dict[str, Any]]) -> Any:
    """A planner proposing ``actions`` in order, whatever the incident (a reasoner that guessed wrong first)."""
    from healops.llm.types import Diagnosis, ProposedAction, ReasonerPlan

    def plan(context: IncidentContext) -> PlanOutcome:
        proposals = [ProposedAction(action=a, service=context.service, parameters=p) for a, p in actions]
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


@pytest.mark.parametrize(
    ("first", "params", "acted", "undo", "field"),
    [
        ("scale_out", {"replicas": 3}, "scale_out", "scale_in", "replicas"),
        ("throttle_traffic", {"percent": 40}, "throttle", "throttle", "throttle_pct"),
    ],
)
def test_an_action_that_did_not_help_is_undone_before_the_next_candidate(
    dynamodb: Any, first: str, params: dict[str, Any], acted: str, undo: str, field: str
) -> None:
    world = World(dynamodb, RemediationLimits(cooldown_s=0))
    world.engine.planner = planned((first, params), ("failover", {}))
    world.tick(5)
    before = getattr(world.fleet.describe("ledger-db"), field)
    world.sim.inject("ledger-db", "dependency_failure")
    world.tick(3)
    run = world.run(incident("ledger-db", "errors"))
    assert run.route == "resolved", run.tried
    assert world.fleet.applied == [("ledger-db", acted), ("ledger-db", undo), ("ledger-db", "failover")]
    assert getattr(world.fleet.describe("ledger-db"), field) == before
    tried = world.engine.remediations.for_incident("unit-ledger-db-errors").items
    assert tried[0]["verification"] == "not_recovered" and tried[0]["compensation"].startswith("undone")
    assert tried[1].get("compensation") is None  # it helped: nothing undone
    assert "undone" in run.tried[0]
    steps, _ = world.engine.decisions.for_incident("unit-ledger-db-errors")
    assert [s.phase for s in steps].count("compensated") == 1
    # a verify step delivered again undoes nothing more
    attempt = world.engine.remediations.get("unit-ledger-db-errors", tried[0]["attempt_id"])
    assert "nothing to undo" in (world.engine._compensate(run, attempt) or "")
    assert len(world.fleet.applied) == 3


def test_an_action_without_a_compensation_is_left_as_it_is(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits())
    world.tick(5)
    world.sim.inject("ledger-db", "dependency_failure")
    world.tick(3)
    world.run(incident("ledger-db", "errors"))
    restart = world.engine.remediations.for_incident("unit-ledger-db-errors").items[0]
    assert restart["action"] == "restart_service" and restart["verification"] == "not_recovered"
    assert restart.get("compensation") is None and restart.get("view_before") is None
