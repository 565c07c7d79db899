"""Several faults at once on neighbouring services, on the deployed stack with its default policy and nobody
answering an approval: a memory leak on checkout-1, a bad deploy on payments-1 (its dependency) and a disk fill
on edge-1 (its caller), injected through the injector Lambda. The detector opens the incidents, the remediator and
the state machine plan, act and verify; each incident is planned on its own root and fixed by its fault's fix,
and no service that was not at fault is acted on. (tests/unit/remediation/test_concurrent_faults.py: the same
in process.)

Under load: the stack runs at the e2e time scale (a simulated minute a real second), so every wait here is a
deadline on a poll, never a duration; the remediator's timeout on this stack (tests/e2e/conftest.py) leaves a
plan step room on a machine where other work holds the cores.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from healops.deploy.stack import StackInfo
from healops.fleet.actions import next_version
from healops.remediation.policy import DEFAULT_POLICY
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.fleet import FleetRepository
from tests.e2e.conftest import TEST_VARIABLES
from tests.e2e.stack_calls import tables
from tests.e2e.test_remediation import POLICY_PARAMETER, attempts, clear, detected, execution, explain, inject

# Copy group 1 of the named graph (fleet_size 24): checkout-1 calls payments-1, edge-1 calls checkout-1; no other
# e2e file touches these three.
LEAK, BAD_DEPLOY, DISK = "checkout-1", "payments-1", "edge-1"
FAULTS = {LEAK: "memory_leak", BAD_DEPLOY: "bad_deploy", DISK: "disk_exhaustion"}
# The catalog's fix of each fault (a leak shipped with a version: rolling the version back ends it).
FIX = {LEAK: "rollback_deploy", BAD_DEPLOY: "rollback_deploy", DISK: "clear_disk"}
# Detection, three plans, a rollback's settle and verification: a few dozen simulated minutes, so about a minute on
# a quiet machine. The deadline is for a machine whose cores other work holds (load average 30 on 2 cores).
DEADLINE_S = 540
CHOSEN = re.compile(r"^#\d+ (?P<action>\S+) on (?P<service>\S+)$")


def deploy_a_new_version(stack: StackInfo, aws: Any, service: str) -> str:
    """What the fleet's deploy pipeline writes (healops/fleet/generator.py): the new version out now, the running one
    kept as the rollback target. The injector has no deploy of its own; a leak ships with the version running."""
    fleet = FleetRepository(tables(stack)["fleet"], aws("dynamodb"))
    state = fleet.get(service)
    assert state is not None, f"no {service} in the fleet table"
    now = datetime.now(UTC).isoformat()
    update = {
        "previous_version": state.version,
        "version": next_version(state.version),
        "deployed_at": now,
        "updated_at": now,
        "last_action": "deploy",
    }
    fleet.replace(state.model_copy(update=update), state.record_version)
    return state.version


def acted_since(stack: StackInfo, aws: Any, since: str) -> list[dict[str, Any]]:
    """Every remediation attempt in the table started since ``since`` that changed something, on any service."""
    plain = TypeDeserializer()
    pages = aws("dynamodb").get_paginator("scan").paginate(TableName=tables(stack)["remediations"])
    items = [{k: plain.deserialize(v) for k, v in item.items()} for page in pages for item in page["Items"]]
    return [i for i in items if i.get("started_at", "") >= since and i.get("acted_at")]


def chosen(stack: StackInfo, aws: Any, incident_id: str) -> list[tuple[str, str]]:
    """The plan as the decision records hold it: (action, service) of each candidate, in rank order."""
    steps, _ = AgentDecisionsRepository(tables(stack)["agent_decisions"], aws("dynamodb")).for_incident(incident_id)
    found = [CHOSEN.match(step.title) for step in steps if step.phase == "chosen"]
    return [(m["action"], m["service"]) for m in found if m]


@pytest.mark.timeout(DEADLINE_S + 300)
def test_a_leak_a_bad_deploy_on_its_dependency_and_a_disk_fill_on_its_caller_are_each_fixed_on_their_own_root(
    stack: StackInfo, aws: Any
) -> None:
    # The deployed default policy (healops/remediation/default_policy.json), but for this stack's one override.
    deployed = json.loads(aws("ssm").get_parameter(Name=POLICY_PARAMETER)["Parameter"]["Value"])
    assert deployed == {**DEFAULT_POLICY, **TEST_VARIABLES["remediation_policy"]}
    assert set(TEST_VARIABLES["remediation_policy"]) == {"max_concurrent"}

    since = datetime.now(UTC).isoformat()
    leak_fixed_version = deploy_a_new_version(stack, aws, LEAK)
    for service, fault in FAULTS.items():
        inject(aws, service, fault)
    incidents: dict[str, str | None] = dict.fromkeys(FAULTS)
    finals: dict[str, dict[str, Any]] = {}
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(finals) < len(FAULTS) and time.monotonic() < deadline:
            for service in FAULTS:
                incidents[service] = incidents[service] or detected(aws, stack, service, since)
                incident_id = incidents[service]
                if incident_id and service not in finals:
                    described = execution(aws, stack, incident_id)
                    if described and described["status"] != "RUNNING":
                        finals[service] = described
            time.sleep(2.0)
    finally:
        for service in FAULTS:
            clear(aws, service)

    story = {s: explain(attempts(aws, stack, i)) if i else "no incident" for s, i in incidents.items()}
    for service, fault in FAULTS.items():
        incident_id = incidents[service]
        assert incident_id, f"the detector opened no incident on {service} for its {fault} in {DEADLINE_S} s"
        final = finals.get(service)
        assert final, f"the remediation of {incident_id} ({fault} on {service}) did not end:\n{story[service]}"
        assert final["status"] == "SUCCEEDED", f"{final.get('error')}: {final.get('cause')}\n{story[service]}"
        # Its own root, and nothing else, in the plan the reasoner chose and in what the remediator tried.
        plan = chosen(stack, aws, incident_id)
        assert plan and {s for _, s in plan} == {service}, (service, plan)
        tried = attempts(aws, stack, incident_id)
        assert {t["service"] for t in tried} == {service}, story[service]
        # Nobody was asked: every attempt was the guard's to allow.
        assert all(t["guard_decision"] == "allow" for t in tried), story[service]
        last = tried[-1]
        assert (last["action"], last["verification"], last["outcome"]) == (FIX[service], "recovered", "verified"), (
            story[service]
        )
        record = aws("dynamodb").get_item(TableName=tables(stack)["incidents"], Key={"incident_id": {"S": incident_id}})
        assert record["Item"]["status"]["S"] == "resolved", (service, record["Item"]["status"]["S"])

    # No service that was not at fault changed: every attempt since the injection that acted was on one of the three.
    elsewhere = [(a["service"], a["action"], a["incident_id"]) for a in acted_since(stack, aws, since)]
    assert {service for service, *_ in elsewhere} <= set(FAULTS), elsewhere
    fleet = FleetRepository(tables(stack)["fleet"], aws("dynamodb"))
    leaking = fleet.get(LEAK)
    assert leaking is not None and leaking.version == leak_fixed_version  # rolled back past the leaking version
