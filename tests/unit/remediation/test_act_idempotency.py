"""The remediator's act step through its handler: Powertools idempotency on (incident, attempt, action) in a
DynamoDB table, and the fleet adapter's operation id, so neither a duplicate nor a retry after a crash acts twice.

Everything is the deployed code on moto: the handler (functions/remediator/app.py), its engine built by
healops/remediation/wiring.py from the function's environment, the simulated fleet on its table. The only
stand-in is a wrapper around the fleet adapter that counts its calls and can kill the invocation right after
the fleet changed, before the attempt is recorded (a Lambda that timed out or ran out of memory there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops import config
from healops.deploy.tables import create_tables
from healops.fleet.actions import ActionOutcome
from healops.fleet.adapter import FleetAdapter, ServiceView
from healops.models.incident import IncidentMessage
from healops.remediation.engine import Remediation
from healops.remediation.run import Candidate, RunState
from healops.store.fleet import FleetRepository
from healops.store.incidents import IncidentRecord
from tests.unit.fleet.sim import Sim
from tests.unit.functions.conftest import load_handler

remediator = load_handler("remediator")
TABLES = {
    "incidents": "HEALOPS_INCIDENTS_TABLE",
    "remediations": "HEALOPS_REMEDIATIONS_TABLE",
    "agent_decisions": "HEALOPS_AGENT_DECISIONS_TABLE",
    "llm_actions": "HEALOPS_LLM_ACTIONS_TABLE",
    "fleet": "HEALOPS_FLEET_TABLE",
    "injections": "HEALOPS_INJECTIONS_TABLE",
    "idempotency": "HEALOPS_IDEMPOTENCY_TABLE",
}
SERVICE = "auth"


class LambdaDied(RuntimeError):
    """The invocation ended between the fleet's change and the attempt's record."""


class CountingFleet:
    """The fleet adapter, wrapped: counts ``apply`` calls; the first ``crashes`` of them die right after the
    inner adapter applied the change."""

    def __init__(self, inner: FleetAdapter, crashes: int = 0) -> None:
        self.inner = inner
        self.crashes = crashes
        self.calls = 0

    def services(self) -> list[str]:
        return self.inner.services()

    def describe(self, service: str) -> ServiceView:
        return self.inner.describe(service)

    def apply(
        self, service: str, action: Any, params: dict[str, Any] | None = None, operation_id: str | None = None
    ) -> ActionOutcome:
        self.calls += 1
        outcome = self.inner.apply(service, action, params, operation_id=operation_id)
        if self.crashes:
            self.crashes -= 1
            raise LambdaDied(f"killed after {action} on {service} was applied ({operation_id})")
        return outcome


@dataclass
class LambdaContext:
    """What Powertools reads of the Lambda context (the in-progress record expires with the invocation)."""

    function_name: str = "remediator"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:remediator"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Remediation, Any]]:
    """The handler's engine on moto tables (as Terraform names them in the function's environment)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "t"),
        ("AWS_SECRET_ACCESS_KEY", "t"),
    ):
        monkeypatch.setenv(name, value)
    for table, variable in TABLES.items():
        monkeypatch.setenv(variable, table)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, list(TABLES))
        fleet = FleetRepository("fleet", dynamodb)
        for state in Sim().states.values():
            fleet.create(state)
        for cached in (config.current, remediator.engine, remediator.act):
            cached.cache_clear()
        yield remediator.engine(), dynamodb
        for cached in (config.current, remediator.engine, remediator.act):
            cached.cache_clear()


def guarded_scale_out(engine: Remediation, incident_id: str) -> dict[str, Any]:
    """The act task's input after the guard allowed a scale-out of two replicas on ``SERVICE``."""
    incident = IncidentMessage(
        incident_id=incident_id, service=SERVICE, kind="cpu", opened_at=datetime.now(UTC), severity="high"
    )
    engine.incidents.create_if_absent(IncidentRecord(incident_id=incident_id, service=SERVICE, kind="cpu"))
    run = RunState(
        incident=incident,
        planner="test:fixed",
        candidates=[Candidate(action="scale_out", service=SERVICE, parameters={"replicas": 2})],
    )
    run = engine.guard(run)
    assert run.route == "act", run.tried
    return {"step": "act", "state": {"incident": incident.model_dump(mode="json"), "run": run.model_dump(mode="json")}}


def acted_steps(engine: Remediation, incident_id: str) -> int:
    steps, _ = engine.decisions.for_incident(incident_id)
    return [s.phase for s in steps].count("acted")


def test_a_crash_after_the_fleet_changed_is_retried_without_acting_twice(deployed: Any) -> None:
    engine, dynamodb = deployed
    fleet = CountingFleet(engine.fleet, crashes=1)
    engine.fleet = fleet
    before = FleetRepository("fleet", dynamodb).get(SERVICE)
    assert before is not None
    event = guarded_scale_out(engine, "unit-crash")

    with pytest.raises(LambdaDied):
        remediator.handler(event, LambdaContext())
    # The fleet changed; the attempt does not say so yet (the crash came first).
    changed = FleetRepository("fleet", dynamodb).get(SERVICE)
    assert changed is not None and changed.replicas == before.replicas + 2
    [attempt] = engine.remediations.for_incident("unit-crash").items
    assert attempt["outcome"] == "started" and not attempt.get("acted_at")

    # Step Functions retries the failed task with the same input: Powertools runs it again (the failed
    # run left no record), and the adapter recognises the operation it already applied.
    result = remediator.handler(event, LambdaContext())
    assert result["route"] == "wait" and fleet.calls == 2
    after = FleetRepository("fleet", dynamodb).get(SERVICE)
    assert after is not None
    assert after.replicas == before.replicas + 2 and after.record_version == before.record_version + 1
    assert after.last_operation_id == f"unit-crash/{attempt['attempt_id']}"
    [attempt] = engine.remediations.for_incident("unit-crash").items
    assert attempt["outcome"] == "acted" and attempt["acted_at"]
    # What the compensation would restore is the service before the action, not the one the crash left.
    assert attempt["view_before"]["replicas"] == before.replicas
    assert acted_steps(engine, "unit-crash") == 1

    # Delivered once more after it succeeded: Powertools answers from its table, nothing runs.
    assert remediator.handler(event, LambdaContext()) == result
    assert fleet.calls == 2 and acted_steps(engine, "unit-crash") == 1


def test_the_same_act_twice_acts_once_through_powertools_idempotency(deployed: Any) -> None:
    engine, dynamodb = deployed
    fleet = CountingFleet(engine.fleet)
    engine.fleet = fleet
    before = FleetRepository("fleet", dynamodb).get(SERVICE)
    assert before is not None
    event = guarded_scale_out(engine, "unit-twice")

    first = remediator.handler(event, LambdaContext())
    second = remediator.handler(json.loads(json.dumps(event)), LambdaContext())

    # The second call never reached the engine: the adapter was asked once, not asked and refused.
    assert first == second and fleet.calls == 1
    after = FleetRepository("fleet", dynamodb).get(SERVICE)
    assert after is not None and after.replicas == before.replicas + 2
    assert after.record_version == before.record_version + 1
    assert acted_steps(engine, "unit-twice") == 1
    stored = dynamodb.scan(TableName="idempotency")["Items"]
    assert [item["status"]["S"] for item in stored] == ["COMPLETED"]
