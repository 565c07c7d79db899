"""The remediation engine's steps on in-memory fakes: a simulated fleet, its telemetry, a fake clock; the
repositories on moto. Plan -> guard -> act -> verify, driven step by step as the state machine would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from healops.remediation.policy import RemediationLimits
from healops.store.incidents import IncidentRecord
from tests.unit.fleet.sim import NIGHT_TICK, PEAK_BURST_TICK
from tests.unit.remediation.world import World, incident, planned


def faulted(
    dynamodb: Any,
    service: str,
    fault: str,
    ticks: int,
    limits: RemediationLimits | None = None,
    deployed_before: int | None = None,
    **params: Any,
) -> World:
    """A world (``limits``: the defaults unless given) 5 quiet ticks in, ``service`` deployed ``deployed_before``
    minutes earlier if given, then ``fault`` on it for ``ticks`` ticks."""
    world = World(dynamodb, limits if limits is not None else RemediationLimits())
    world.tick(5)
    if deployed_before is not None:
        world.deployed(service, minutes_ago=deployed_before)
    world.sim.inject(service, fault, **params)
    world.tick(ticks)
    return world


def remediated(
    dynamodb: Any, service: str, fault: str, kind: str, ticks: int, deployed_before: int | None = None, **params: Any
) -> tuple[Any, list[dict[str, Any]]]:
    """:func:`faulted`, then remediated as the detector's ``kind`` incident: the run and its attempts, first to
    last."""
    world = faulted(dynamodb, service, fault, ticks, deployed_before=deployed_before, **params)
    run = world.run(incident(service, kind))
    return run, world.engine.remediations.for_incident(f"unit-{service}-{kind}").items


def test_a_surge_is_relieved_by_a_scale_out_sized_to_the_traffic_and_verified(dynamodb: Any) -> None:
    world = faulted(dynamodb, "search", "cpu_saturation", 1)
    # The detector sees the latency first and names the incident after it; the CPU explains it.
    run = world.run(incident("search", "latency"))
    assert run.route == "resolved", run.tried
    assert world.fleet.applied == [("search", "scale_out")]
    [attempt] = world.engine.remediations.for_incident("unit-search-latency").items
    assert attempt["verification"] == "recovered" and attempt["params"]["replicas"] > 4
    assert world.engine.incidents.get("unit-search-latency").status == "resolved"
    steps, _ = world.engine.decisions.for_incident("unit-search-latency")
    assert "stays in effect: remove the replicas it added" in steps[-1].detail  # the human is told what remains


def test_a_surge_at_night_is_met_with_a_scale_out_that_restores_the_headroom(dynamodb: Any) -> None:
    # 03:20 simulated: auth takes four times its traffic at 70-78% CPU and the detector opens a traffic_surge
    # incident (tests/unit/detection/test_fleet_detection.py); nothing is saturated yet, the headroom is gone.
    world = World(dynamodb, RemediationLimits(), tick=NIGHT_TICK - 5)
    world.tick(5)
    world.sim.inject("auth", "cpu_saturation")
    world.tick(2)
    run = world.run(incident("auth", "traffic_surge"))
    assert run.diagnosis.startswith("cpu_saturation"), run.diagnosis
    assert run.route == "resolved" and world.fleet.applied == [("auth", "scale_out")], run.tried
    world.tick(3)
    # The replicas were sized to 50%: the CPU stays under the 65% at which a surge opens an incident.
    assert max(row["auth"]["CPUUtilization"] for _, row in world.metrics.points[-3:]) < 65.0


def test_a_rollback_that_leaves_a_predicted_disk_fill_climbing_is_not_a_recovery(dynamodb: Any) -> None:
    # Deployed 20 minutes before the fill: the deploy is the first suspect and the rollback runs. Its own metrics
    # (errors, latency, memory) all hold their bands while the disk climbs on; it had verified, and the incident
    # was resolved until the detector reopened it (healops bench closed-loop --deploy-before 20: 120 of 120).
    run, items = remediated(dynamodb, "search", "disk_exhaustion", "disk_exhaustion_predicted", 6, deployed_before=20)
    assert run.route == "resolved", run.tried
    assert [(a["action"], a["verification"]) for a in items] == [
        ("rollback_deploy", "not_recovered"),
        ("clear_disk", "recovered"),  # the fill's own fix next, not the deploy playbook's restart
    ]
    assert "no headroom gained on the predicted exhaustion" in items[0]["verification_detail"]


def test_a_restart_that_empties_a_leaking_heap_is_a_relief_that_verifies(dynamodb: Any) -> None:
    # Nothing to roll back to: the restart gives the memory back (the detector reopens the incident if the leak
    # comes back, and past the reopen limit it goes to humans).
    run, items = remediated(dynamodb, "search", "memory_leak", "memory_exhaustion_predicted", 8, leak_mb_per_tick=120.0)
    assert run.route == "resolved", run.tried
    assert [(a["action"], a["verification"]) for a in items if a["outcome"] != "skipped"] == [
        ("restart_service", "recovered")
    ]


def test_a_dependency_failure_is_fixed_by_the_next_candidate_after_a_restart_fails(dynamodb: Any) -> None:
    run, items = remediated(dynamodb, "ledger-db", "dependency_failure", "errors", 3)
    assert run.route == "resolved", run.tried
    assert [(a["action"], a["verification"]) for a in items] == [
        ("restart_service", "not_recovered"),
        ("failover", "recovered"),
    ]


def test_a_benign_deploy_just_before_a_dependency_failure_costs_a_rollback_not_the_fix(dynamodb: Any) -> None:
    # Deployed 20 simulated minutes before: the errors look like a bad deploy, so the rollback goes first;
    # when neither it nor the restart clears them, the error storm's failover follows and fixes.
    run, items = remediated(dynamodb, "ledger-db", "dependency_failure", "errors", 3, deployed_before=20)
    assert run.diagnosis.startswith("bad_deploy"), run.diagnosis
    assert run.route == "resolved", run.tried
    assert [(a["action"], a["verification"]) for a in items] == [
        ("rollback_deploy", "not_recovered"),
        ("restart_service", "not_recovered"),
        ("failover", "recovered"),
    ]


def test_a_dependency_failure_during_a_traffic_burst_is_not_taken_for_the_burst(dynamodb: Any) -> None:
    # The burst's CPU (86% when planned) once explained the 80% error rate away: the diagnosis was a CPU spike,
    # and the scale-out, the watch and a restart used up the three attempts before failover. A CPU short of its
    # ceiling slows requests down; it does not fail them.
    world = World(dynamodb, RemediationLimits(), tick=PEAK_BURST_TICK)
    world.tick(5)
    world.sim.inject("checkout", "dependency_failure")
    world.tick(3)
    run = world.run(incident("checkout", "errors"))
    assert run.route == "resolved", (run.diagnosis, run.tried)
    assert not run.diagnosis.startswith("cpu"), run.diagnosis


def test_a_dependency_failure_after_a_deploy_as_a_burst_starts_still_reaches_failover(dynamodb: Any) -> None:
    # Deployed 20 minutes before, at 16:02 as a burst takes checkout's CPU from 55% to 91%: rollback and restart do
    # not help, and the third attempt must be failover (80% errors, 16 times the limit), not a scale-out for a CPU
    # barely into its band (found by healops bench remediation-sweep --every 29 --deploy-before 20).
    world = World(dynamodb, RemediationLimits(), tick=PEAK_BURST_TICK - 19)
    world.tick(5)
    world.deployed("checkout", minutes_ago=20)
    world.inject("checkout", "dependency_failure")
    world.tick(3)
    run = world.run(incident("checkout", "errors"))
    assert run.route == "resolved", (run.diagnosis, run.tried)
    assert [line.split(" on ")[0] for line in run.tried] == ["rollback_deploy", "restart_service", "failover"]


def test_dry_run_plans_and_records_but_never_acts(dynamodb: Any) -> None:
    world = faulted(dynamodb, "auth", "disk_exhaustion", 3, RemediationLimits(dry_run=True))
    run = world.run(incident("auth", "disk"))
    assert run.route == "escalate" and world.fleet.applied == []
    items = world.engine.remediations.for_incident("unit-auth-disk").items
    assert items and all(i["outcome"] == "dry_run" for i in items)
    assert items[0]["action"] == "clear_disk"
    # The full plan is on record: every candidate the planner ranked was guarded (in dry run), none acted.
    assert [(i["action"], i["service"]) for i in items] == [(c.action, c.service) for c in run.candidates]
    steps, _ = world.engine.decisions.for_incident("unit-auth-disk")
    guarded = [s for s in steps if s.phase == "guarded"]
    assert len(guarded) == len(run.candidates) and all(s.data.get("dry_run") for s in guarded)
    assert not [s for s in steps if s.phase in ("acted", "resolved")]
    world.engine.escalate(incident("auth", "disk"), run, None)  # the state machine's next step
    steps, _ = world.engine.decisions.for_incident("unit-auth-disk")
    assert steps[-1].phase == "escalated" and "dry-run mode" in steps[-1].title


def test_the_allow_list_refuses_and_the_refusal_is_recorded(dynamodb: Any) -> None:
    world = faulted(dynamodb, "auth", "disk_exhaustion", 3, RemediationLimits(allowed_actions={"*": ["no_op_observe"]}))
    run = world.run(incident("auth", "disk"))
    assert run.route == "escalate" and world.fleet.applied == []
    [item] = world.engine.remediations.for_incident("unit-auth-disk").items
    assert item["outcome"] == "refused" and "allow-list" in " ".join(item["guard_reasons"])


def test_a_slot_is_held_while_remediating_and_given_back_at_the_end(dynamodb: Any) -> None:
    world = faulted(dynamodb, "auth", "disk_exhaustion", 3, RemediationLimits(max_concurrent=1))
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
    world = faulted(dynamodb, "auth", "disk_exhaustion", 3)
    run = world.engine.guard(world.engine.plan(incident("auth", "disk")))
    first = world.engine.act(run.model_copy(deep=True))
    world.engine.act(run.model_copy(deep=True))  # the same step delivered again, after the fleet changed
    assert world.fleet.applied == [("auth", "clear_disk")] and first.route == "wait"


def test_a_reopened_incident_numbers_its_attempts_after_the_earlier_episode(dynamodb: Any) -> None:
    world = faulted(dynamodb, "auth", "disk_exhaustion", 3, RemediationLimits(cooldown_s=0))
    assert world.run(incident("auth", "disk")).route == "resolved"
    world.engine.incidents.transition("unit-auth-disk", "open")
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    assert world.run(incident("auth", "disk", episode=1)).route == "resolved"
    ids = [a["attempt_id"] for a in world.engine.remediations.for_incident("unit-auth-disk").items]
    assert ids == ["0001-clear_disk", "0002-clear_disk"]
    assert world.fleet.applied == [("auth", "clear_disk"), ("auth", "clear_disk")]


def error_storm_restarted_away(dynamodb: Any) -> World:
    """A world where an error storm on auth was remediated (a restart, verified): incident unit-auth-errors."""
    world = faulted(dynamodb, "auth", "error_storm", 3, RemediationLimits(cooldown_s=0))
    assert world.run(incident("auth", "errors")).route == "resolved"
    return world


def test_a_reopened_incidents_own_attempts_lead_its_history_marked_as_not_held(dynamodb: Any) -> None:
    world = error_storm_restarted_away(dynamodb)
    assert world.engine.context(incident("auth", "errors")).history[0].this_incident
    other = world.engine.context(incident("auth", "errors", incident_id="unit-auth-other")).history
    assert [p.this_incident for p in other] == [False]
    history = world.engine.context(incident("auth", "errors", episode=1)).history
    assert [(p.action, p.outcome, p.this_incident) for p in history] == [("restart_service", "resolved", True)]


def test_an_incident_that_keeps_reopening_goes_to_humans_past_the_reopen_limit(dynamodb: Any) -> None:
    world = faulted(dynamodb, "search", "memory_leak", 6, RemediationLimits(max_reopens=2))
    assert world.engine.plan(incident("search", "memory", episode=2)).route == "guard"
    message = incident("search", "memory", episode=3)
    run = world.engine.plan(message)
    assert run.route == "escalate" and run.candidates == [] and run.planner == "none"
    world.engine.escalate(message, run, None)
    record = world.engine.incidents.get("unit-search-memory")
    assert record.status == "escalated"
    assert record.escalation_reason.startswith("reopened 3 times after fixes that verified and did not hold")
    assert world.fleet.applied == []


def test_an_empty_plan_for_a_reopened_incident_names_what_did_not_hold(dynamodb: Any) -> None:
    world = error_storm_restarted_away(dynamodb)
    world.engine.planner = planned()
    run = world.engine.plan(incident("auth", "errors", episode=1))
    assert run.route == "escalate"
    assert run.tried == [
        "the planner proposed no action: what it tried before it reopened (restart_service on auth) did not hold"
    ]


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
    world = faulted(dynamodb, "ledger-db", "dependency_failure", 3)
    world.run(incident("ledger-db", "errors"))
    restart = world.engine.remediations.for_incident("unit-ledger-db-errors").items[0]
    assert restart["action"] == "restart_service" and restart["verification"] == "not_recovered"
    assert restart.get("compensation") is None and restart.get("view_before") is None


def test_the_guard_waits_out_the_actions_own_cooldown_when_it_is_longer_than_the_policys(dynamodb: Any) -> None:
    world = faulted(dynamodb, "auth", "disk_exhaustion", 3, RemediationLimits(cooldown_s=60))
    assert world.run(incident("auth", "disk")).route == "resolved"
    world.tick(5)  # 300 simulated s since the disk was cleared: the policy's 60 s are long over
    world.engine.planner = planned(("scale_in", {"replicas": 1}), ("no_op_observe", {}))
    run = world.run(incident("auth", "load", incident_id="unit-auth-load"))
    scale_in, observe = world.engine.remediations.for_incident("unit-auth-load").items
    assert scale_in["outcome"] == "refused", run.tried
    assert "(cooldown 600 s, scale_in's own)" in " ".join(scale_in["guard_reasons"])
    # no_op_observe's own cooldown (0 s) does not shorten the policy's: it runs.
    assert observe["guard_decision"] == "allow" and observe["verification"] == "recovered"
    assert ("auth", "scale_in") not in world.fleet.applied


def test_no_op_observe_watches_the_ticks_it_was_asked_to_before_it_verifies(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits())
    world.engine.planner = planned(("no_op_observe", {"ticks": 8}))
    world.tick(5)
    run = world.engine.guard(world.engine.plan(incident("search", "latency")))
    run = world.engine.act(run)
    assert run.route == "wait" and run.wait_s == 60 * (8 + 2)  # 8 ticks watched, then 2 in band
    world.tick(5)
    # A healthy service, but only 5 of the 8 ticks have passed: nothing is concluded yet.
    assert world.engine.verify(run).route == "wait"
    world.tick(5)
    assert world.engine.verify(run).route == "resolved"
    [attempt] = world.engine.remediations.for_incident("unit-search-latency").items
    assert attempt["verification"] == "recovered" and world.fleet.applied == []


def test_an_approval_nobody_gives_escalates_with_the_reason_and_retires_the_token(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits(approval_actions={"*": ["failover"]}))  # the operator's list
    world.engine.planner = planned(("failover", {}))
    world.tick(5)
    message = incident("ledger-db", "errors")
    run = world.engine.guard(world.engine.plan(message))
    assert run.route == "await_approval"
    world.engine.await_approval(run, task_token="token-1")
    # AwaitApproval's TimeoutSeconds ran out: the Catch hands the run and the error to Escalate.
    escalation = world.engine.escalate(message, run, {"Error": "States.Timeout", "Cause": ""})
    record = world.engine.incidents.get("unit-ledger-db-errors")
    reason = "nobody approved failover on ledger-db before the approval timed out (States.Timeout)"
    assert record.status == "escalated" and record.escalation_reason == reason
    assert f"Why it was escalated: {reason}." in escalation["message"]
    [attempt] = world.engine.remediations.for_incident("unit-ledger-db-errors").items
    assert attempt["outcome"] == "approval_timed_out" and attempt.get("task_token") is None and attempt["ended_at"]
    assert world.fleet.applied == [] and world.engine.slots.holders() == {}


def test_a_step_that_failed_before_the_incident_was_recorded_still_escalates_it_with_the_error(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits())
    message = incident("auth", "errors")
    cause = {"errorType": "InvalidLimitsError", "errorMessage": "remediation policy: not JSON", "stackTrace": ["..."]}
    escalation = world.engine.escalate(message, None, {"Error": "InvalidLimitsError", "Cause": json.dumps(cause)})
    record = world.engine.incidents.get("unit-auth-errors")
    assert record.status == "escalated"
    assert record.escalation_reason == "the plan step failed: InvalidLimitsError: remediation policy: not JSON"
    assert "stackTrace" not in escalation["message"] and "What was tried:\n  nothing" in escalation["message"]


def test_every_candidate_failing_is_the_escalation_reason(dynamodb: Any) -> None:
    world = faulted(
        dynamodb, "ledger-db", "dependency_failure", 3, RemediationLimits(allowed_actions={"*": ["restart_service"]})
    )
    message = incident("ledger-db", "errors")
    run = world.run(message)
    assert run.route == "escalate"
    world.engine.escalate(message, run, None)
    record = world.engine.incidents.get("unit-ledger-db-errors")
    assert record.status == "escalated" and record.escalation_reason.startswith("no candidate recovered the service")


def test_a_scale_in_proposed_for_a_neighbouring_service_waits_for_a_human(dynamodb: Any) -> None:
    # payments' incident; a reasoner proposes taking replicas from ledger-db, which payments calls
    world = World(dynamodb, RemediationLimits())
    world.engine.planner = planned(("scale_in", {"replicas": 1}, "ledger-db"))
    world.tick(5)
    run = world.engine.guard(world.engine.plan(incident("payments", "errors")))
    assert run.route == "await_approval"
    [attempt] = world.engine.remediations.for_incident("unit-payments-errors").items
    assert attempt["service"] == "ledger-db" and attempt["guard_decision"] == "needs_approval"
    reasons = attempt["guard_reasons"]
    assert "ledger-db is not the incident's service (payments): a human must approve" in reasons
    assert "scale_in would leave 1 replica(s), below the floor of 2: a human must approve" in reasons
    assert world.fleet.applied == []


# A restart of the embedded cloud runs a running execution again from its start (healops.local.persistence): the
# plan is reused, and the guard carries on from each recorded attempt instead of deciding it afresh.


def restarted(world: World, message: Any) -> Any:
    """The execution run again from its first state: plan, then the guard of the first candidate."""
    return world.engine.guard(world.engine.plan(message))


def waiting_for_a_human(dynamodb: Any) -> tuple[World, Any, Any]:
    world = faulted(
        dynamodb, "auth", "disk_exhaustion", 3, RemediationLimits(approval_actions={"auth": ["clear_disk"]})
    )
    message = incident("auth", "disk")
    run = world.engine.guard(world.engine.plan(message))
    assert run.route == "await_approval"
    world.engine.await_approval(run, task_token="token-before-the-restart")
    return world, message, run


def test_after_a_restart_an_unanswered_approval_is_asked_again_with_the_new_token(dynamodb: Any) -> None:
    world, message, _ = waiting_for_a_human(dynamodb)
    run = restarted(world, message)
    assert run.route == "await_approval"
    world.engine.await_approval(run, task_token="token-after-the-restart")
    [attempt] = world.engine.remediations.for_incident("unit-auth-disk").items
    assert attempt["outcome"] == "awaiting_approval" and attempt["task_token"] == "token-after-the-restart"
    assert world.fleet.applied == []


def test_after_a_restart_an_approval_given_before_it_is_not_asked_again_and_acts_once(dynamodb: Any) -> None:
    world, message, _ = waiting_for_a_human(dynamodb)
    attempt = world.engine.remediations.get("unit-auth-disk", "0001-clear_disk")
    assert world.engine.remediations.answer_approval(attempt, "approved", "ops", "2026-01-01T00:00:00+00:00")
    # Stopped before the approval reached the execution: it runs again from its start.
    run = restarted(world, message)
    assert run.route == "act", "the human's approval was asked for a second time"
    run = world.engine.act(run)
    assert run.route == "wait" and world.fleet.applied == [("auth", "clear_disk")]
    [attempt] = world.engine.remediations.for_incident("unit-auth-disk").items
    assert attempt["outcome"] == "acted" and attempt["approval"] == "approved" and not attempt.get("task_token")


def test_after_a_restart_an_action_taken_before_it_goes_on_to_verify_without_a_new_approval(dynamodb: Any) -> None:
    world, message, run = waiting_for_a_human(dynamodb)
    attempt = world.engine.remediations.get("unit-auth-disk", "0001-clear_disk")
    assert world.engine.remediations.answer_approval(attempt, "approved", "ops", "2026-01-01T00:00:00+00:00")
    world.engine.act(run)
    run = restarted(world, message)
    assert run.route == "act"
    run = world.engine.act(run)  # a retried act: it acts once
    assert run.route == "wait" and world.fleet.applied == [("auth", "clear_disk")]
    [attempt] = world.engine.remediations.for_incident("unit-auth-disk").items
    assert attempt["outcome"] == "acted" and not attempt.get("task_token")


def test_after_a_restart_an_attempt_that_ended_stays_ended(dynamodb: Any) -> None:
    world = faulted(
        dynamodb,
        "ledger-db",
        "dependency_failure",
        3,
        RemediationLimits(approval_actions={"ledger-db": ["failover"]}, cooldown_s=0),
    )
    world.engine.planner = planned(("restart_service", {}), ("failover", {}))
    message = incident("ledger-db", "errors")
    run = world.run(message, approve=False)  # the restart does not help; the failover waits for a human
    assert run.route == "await_approval"
    before = {
        a["attempt_id"]: a["outcome"] for a in world.engine.remediations.for_incident("unit-ledger-db-errors").items
    }
    assert before == {"0001-restart_service": "not_recovered", "0002-failover": "started"}
    run = restarted(world, message)
    assert run.route == "next" and run.current is None and run.index == 1
    run = world.engine.guard(run)
    assert run.route == "await_approval" and run.current is not None and run.current.attempt_id == "0002-failover"
    after = {
        a["attempt_id"]: a["outcome"] for a in world.engine.remediations.for_incident("unit-ledger-db-errors").items
    }
    assert after == before and world.fleet.applied == [("ledger-db", "restart")]


def test_after_a_restart_a_reopened_incidents_waiting_attempt_is_found_again_not_numbered_anew(dynamodb: Any) -> None:
    limits = RemediationLimits(cooldown_s=0, approval_actions={"auth": ["clear_disk"]})
    world = faulted(dynamodb, "auth", "disk_exhaustion", 3, limits)
    assert world.run(incident("auth", "disk")).route == "resolved"  # the first episode, approved at once
    world.engine.incidents.transition("unit-auth-disk", "open")
    world.sim.inject("auth", "disk_exhaustion")
    world.tick(3)
    reopened = incident("auth", "disk", episode=1)
    run = world.run(reopened, approve=False)
    assert run.route == "await_approval" and run.current is not None and run.current.attempt_id == "0002-clear_disk"
    world.engine.await_approval(run, task_token="token-before-the-restart")
    run = restarted(world, reopened)
    assert run.route == "await_approval" and run.current is not None and run.current.attempt_id == "0002-clear_disk"
    ids = [a["attempt_id"] for a in world.engine.remediations.for_incident("unit-auth-disk").items]
    assert ids == ["0001-clear_disk", "0002-clear_disk"]
