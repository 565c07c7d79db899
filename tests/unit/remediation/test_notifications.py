"""The engine tells people what happens, from the step that knows it: an action taken, a fix that did not verify,
an approval waiting, a resolution, an escalation (healops/notify/announce.py hands each to the notifier)."""

from __future__ import annotations

from typing import Any

from healops.notify import Notification
from healops.remediation.policy import RemediationLimits
from tests.unit.remediation.test_engine import faulted
from tests.unit.remediation.world import World, incident, planned


def told(world: World) -> list[Notification]:
    heard: list[Notification] = []
    world.engine.announce = heard.append
    return heard


def test_each_action_each_failed_verification_and_the_resolution_are_announced(dynamodb: Any) -> None:
    world = faulted(dynamodb, "ledger-db", "dependency_failure", 3)
    heard = told(world)
    run = world.run(incident("ledger-db", "errors"))
    assert run.route == "resolved", run.tried
    assert [(n.event, n.summary.split(":")[0]) for n in heard] == [
        ("action_taken", "restart_service on ledger-db"),
        ("verification_failed", "restart_service on ledger-db"),
        ("action_taken", "failover on ledger-db"),
        ("resolved", "resolved by failover on ledger-db"),
    ]
    assert {n.incident_id for n in heard} == {"unit-ledger-db-errors"} and {n.service for n in heard} == {"ledger-db"}
    # What was tried travels with the resolution (the Slack message lists it).
    assert heard[-1].tried[0].startswith("restart_service on ledger-db: not recovered")


def test_an_approval_waiting_and_the_escalation_when_nobody_answers_are_announced(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits(approval_actions={"*": ["failover"]}))
    world.engine.planner = planned(("failover", {}))
    heard = told(world)
    world.tick(5)
    message = incident("ledger-db", "errors")
    run = world.engine.guard(world.engine.plan(message))
    world.engine.await_approval(run, task_token="token-1")
    world.engine.escalate(message, run, {"Error": "States.Timeout", "Cause": ""})
    assert [n.event for n in heard] == ["approval_waiting", "escalated"]
    assert heard[0].summary.startswith("failover on ledger-db waits for a human's approval")
    reason = "nobody approved failover on ledger-db before the approval timed out (States.Timeout)"
    assert heard[1].summary == f"Why it was escalated: {reason}."


def test_a_secret_in_an_escalation_reason_is_redacted_before_it_is_announced(dynamodb: Any) -> None:
    world = World(dynamodb, RemediationLimits())
    heard = told(world)
    secret = "AKIAIOSFODNN7EXAMPLE"
    cause = f"could not reach the fleet with key {secret}"
    world.engine.escalate(incident("auth", "errors"), None, {"Error": "RuntimeError", "Cause": cause})
    [escalated] = heard
    assert escalated.event == "escalated" and secret not in escalated.model_dump_json()
