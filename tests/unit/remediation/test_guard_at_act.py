"""The guard holds when the action runs, not only when it was planned: ``act`` checks everything again, an approval
is one conditional write, and one incident at a time is in flight per service (repositories on moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from healops.remediation.policy import RemediationLimits
from healops.remediation.run import CurrentAttempt
from healops.store.remediations import RemediationAttempt
from tests.unit.remediation.world import World, incident, planned

LEDGER = "unit-ledger-db-errors"


def awaiting(dynamodb: Any, **limits: Any) -> tuple[World, Any]:
    """A failover of ledger-db waiting for a human (blast radius HIGH), its token stored."""
    world = World(dynamodb, RemediationLimits(**{"approval_blast_radius": "HIGH", **limits}))
    world.engine.planner = planned(("failover", {}), ("restart_service", {}))
    world.tick(5)
    run = world.engine.guard(world.engine.plan(incident("ledger-db", "errors")))
    assert run.route == "await_approval"
    world.engine.await_approval(run, task_token="token-1")
    return world, run


def approve(world: World, run: Any, by: str = "alice") -> bool:
    attempt = world.engine.remediations.get(LEDGER, run.current.attempt_id)
    return world.engine.remediations.answer_approval(attempt, "approved", by, datetime.now(UTC).isoformat())


def the_attempt(world: World, run: Any) -> dict[str, Any]:
    found = world.engine.remediations.get(LEDGER, run.current.attempt_id)
    assert found is not None
    return found.model_dump()


def test_an_approved_attempt_acts(dynamodb: Any) -> None:
    # The control for the refusals below: the same approval, nothing changed in between, acts.
    world, run = awaiting(dynamodb)
    assert approve(world, run)
    assert world.engine.act(run).route == "wait" and world.fleet.applied == [("ledger-db", "failover")]


def test_act_on_an_attempt_nobody_approved_is_refused_and_recorded(dynamodb: Any) -> None:
    # A direct invocation of the act step while the attempt still waits for a human.
    world, run = awaiting(dynamodb)
    run = world.engine.act(run)
    assert world.fleet.applied == [] and run.route == "next"
    [attempt] = world.engine.remediations.for_incident(LEDGER).items
    assert attempt["outcome"] == "refused_at_act" and "never allowed or approved" in attempt["error"]
    assert attempt.get("task_token") is None
    steps, _ = world.engine.decisions.for_incident(LEDGER)
    assert steps[-1].phase == "guarded" and "never allowed or approved" in steps[-1].detail


def test_act_on_an_attempt_the_guard_refused_is_refused(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits(allowed_actions={"*": ["no_op_observe"]}))
    world.engine.planner = planned(("restart_service", {}))
    world.tick(5)
    run = world.engine.guard(world.engine.plan(incident("auth", "errors")))
    [refused] = world.engine.remediations.for_incident("unit-auth-errors").items
    assert refused["outcome"] == "refused"
    # A made-up run that points act at the refused attempt.
    forged = run.model_copy(
        update={"current": CurrentAttempt(attempt_id=refused["attempt_id"], action="restart_service", service="auth")}
    )
    world.engine.act(forged)
    assert world.fleet.applied == []
    assert world.engine.remediations.for_incident("unit-auth-errors").items[0]["outcome"] == "refused"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"dry_run": True}, "dry-run mode is on now"),
        ({"allowed_actions": {"*": ["restart_service"]}}, "failover is not on the allow-list for ledger-db"),
    ],
    ids=["dry-run", "allow-list"],
)
def test_an_approval_after_the_policy_changed_acts_on_nothing(dynamodb: Any, change: dict, reason: str) -> None:
    world, run = awaiting(dynamodb)
    assert approve(world, run)
    world.limits = world.limits.model_copy(update=change)
    run = world.engine.act(run)
    assert world.fleet.applied == [] and run.route in ("next", "escalate")
    attempt = world.engine.remediations.for_incident(LEDGER).items[0]
    assert attempt["outcome"] == "refused_at_act" and reason in attempt["error"]


def test_an_approval_after_the_breaker_opened_acts_on_nothing(dynamodb: Any) -> None:
    world, run = awaiting(dynamodb, breaker_failures=1)
    assert approve(world, run)
    # Meanwhile another incident's remediation of ledger-db failed (on the world's clock).
    now = datetime.fromtimestamp(world.engine.now(), UTC).isoformat()
    world.engine.remediations.record(
        RemediationAttempt(
            incident_id="other",
            attempt_id="0001-restart_service",
            service="ledger-db",
            action="restart_service",
            planner="offline",
            guard_decision="allow",
            started_at=now,
            ended_at=now,
            outcome="failed",
        )
    )
    world.engine.act(run)
    assert world.fleet.applied == []
    [attempt] = world.engine.remediations.for_incident(LEDGER).items
    assert attempt["outcome"] == "refused_at_act" and "circuit breaker open" in attempt["error"]


def test_the_first_answer_to_an_approval_wins_and_the_second_changes_nothing(dynamodb: Any) -> None:
    world, run = awaiting(dynamodb)
    read_by_both = world.engine.remediations.get(LEDGER, run.current.attempt_id)
    assert read_by_both is not None
    at = datetime.now(UTC).isoformat()
    assert world.engine.remediations.answer_approval(read_by_both, "approved", "alice", at)
    assert not world.engine.remediations.answer_approval(read_by_both, "denied", "bob", at)
    attempt = the_attempt(world, run)
    assert (attempt["approval"], attempt["approval_by"]) == ("approved", "alice")
    assert attempt["task_token"] == "token-1" and attempt["outcome"] == "awaiting_approval"


def test_two_incidents_on_one_service_cannot_both_be_in_flight(dynamodb: Any) -> None:
    world, run = awaiting(dynamodb)  # the first holds ledger-db while it waits for a human
    second = world.engine.guard(world.engine.plan(incident("ledger-db", "latency")))
    assert second.route in ("next", "escalate")
    [refused, *_] = world.engine.remediations.for_incident("unit-ledger-db-latency").items
    assert refused["outcome"] == "refused"
    assert f"already has a remediation in flight (incident {LEDGER})" in " ".join(refused["guard_reasons"])
    # Once the first is over (escalated here) the service is free again.
    world.engine.escalate(incident("ledger-db", "errors"), run, None)
    third = world.engine.guard(world.engine.plan(incident("ledger-db", "latency", incident_id="unit-third")))
    assert third.route == "await_approval"


def test_act_on_an_incident_merged_into_its_dependency_s_since_the_guard_does_not_act_and_pages_nobody(
    dynamodb: Any,
) -> None:
    # Issue 25: the detector merged the caller's incident into its dependency's (correlation rule 5) after the
    # plan chose a restart of the caller; the act step reads the incident again and stops there.
    world = World(dynamodb, RemediationLimits())
    world.engine.planner = planned(("restart_service", {}))
    world.tick(5)
    run = world.engine.guard(world.engine.plan(incident("edge", "errors")))
    assert run.route == "act"
    incidents = world.engine.incidents
    incidents.transition("unit-edge-errors", "resolved", merged_into="search-errors-0")
    run = world.engine.act(run)
    assert world.fleet.applied == [] and run.route == "resolved"
    [attempt] = world.engine.remediations.for_incident("unit-edge-errors").items
    assert attempt["outcome"] == "refused_at_act" and "merged into search-errors-0" in attempt["error"]
    assert world.engine.slots.holders() == {}
    assert incidents.get("unit-edge-errors").status == "resolved"  # type: ignore[union-attr]
