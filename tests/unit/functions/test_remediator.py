from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.llm.types import IncidentContext
from healops.models import IncidentMessage
from healops.remediation.catalog import catalog_specs
from healops.remediation.wiring import PlanningRefusedError
from tests.unit.functions.conftest import load_handler

remediator = load_handler("remediator")
POISON_ID = "22222222-2222-4222-8222-222222222222"


@pytest.fixture
def state_machine(monkeypatch):
    with mock_aws():
        remediator.stepfunctions.cache_clear()
        remediator.incidents.cache_clear()
        # The remediator records each incident before it starts its execution (the planner may not write it).
        create_tables(boto3.client("dynamodb", region_name="us-east-1"), ["incidents"])
        monkeypatch.setenv("HEALOPS_INCIDENTS_TABLE", "incidents")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
        arn = sfn.create_state_machine(
            name="unit-remediation",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/unit-sfn",
        )["stateMachineArn"]
        monkeypatch.setenv("HEALOPS_STATE_MACHINE_ARN", arn)
        yield sfn, arn
        remediator.stepfunctions.cache_clear()
        remediator.incidents.cache_clear()


def test_batch_starts_one_execution_per_incident_and_fails_only_the_poison_record(event, state_machine):
    sfn, arn = state_machine

    response = remediator.handler(event("sqs_incidents_batch"), None)

    assert response == {"batchItemFailures": [{"itemIdentifier": POISON_ID}]}
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == ["inc-checkout-error_rate-20261124T1203"]
    started = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(started["input"])["service"] == "checkout"
    record = remediator.incidents().get("inc-checkout-error_rate-20261124T1203")
    assert record is not None and (record.service, record.kind) == ("checkout", "error_rate")


def test_redelivered_incident_counts_as_started(event, state_machine):
    sfn, arn = state_machine
    batch = event("sqs_incidents_batch")
    batch["Records"] = [batch["Records"][0]]

    assert remediator.handler(batch, None) == {"batchItemFailures": []}
    assert remediator.handler(batch, None) == {"batchItemFailures": []}
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_a_reopened_incident_starts_a_new_execution_and_its_redelivery_starts_nothing(event, state_machine):
    sfn, arn = state_machine
    batch = event("sqs_incidents_batch")
    first = batch["Records"][0]
    reopened = {**first, "body": json.dumps({**json.loads(first["body"]), "episode": 1})}
    batch["Records"] = [first, reopened, reopened]

    assert remediator.handler(batch, None) == {"batchItemFailures": []}
    names = sorted(e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"])
    assert names == ["inc-checkout-error_rate-20261124T1203", "inc-checkout-error_rate-20261124T1203-r1"]


def test_batch_fails_as_a_whole_when_the_state_machine_is_not_configured(event, monkeypatch):
    # Every record failing makes the invocation fail (Powertools), so the Errors alarm sees it.
    monkeypatch.delenv("HEALOPS_STATE_MACHINE_ARN", raising=False)
    batch = event("sqs_incidents_batch")
    batch["Records"] = [batch["Records"][0]]

    with pytest.raises(BatchProcessingError, match="All records failed"):
        remediator.handler(batch, None)


def test_the_remediator_refuses_the_plan_step_the_planner_function_runs():
    # The role that acts never calls a model: the Plan state invokes the planner function.
    with pytest.raises(ValueError, match="planner function"):
        remediator.handler({"step": "plan", "state": {"incident": load_incident()}}, None)


def test_the_remediators_engine_refuses_to_plan(monkeypatch):
    for table in ("incidents", "fleet", "injections", "remediations", "agent_decisions"):
        monkeypatch.setenv(f"HEALOPS_{table.upper()}_TABLE", table)  # named only: nothing is read or written
    incident = IncidentMessage.model_validate(load_incident())
    context = IncidentContext(
        incident_id=incident.incident_id,
        service=incident.service,
        kind=incident.kind,
        opened_at=incident.opened_at.isoformat(),
        catalog=catalog_specs(),
    )
    with mock_aws():
        remediator.engine.cache_clear()
        try:
            with pytest.raises(PlanningRefusedError, match="does not plan"):
                remediator.engine().planner(context, None)
        finally:
            remediator.engine.cache_clear()


def test_a_step_other_than_escalate_needs_the_run():
    task = {"step": "guard", "state": {"incident": load_incident()}}
    with pytest.raises(ValueError, match=r"needs the run"):
        remediator.handler(task, None)


def load_incident():
    return {
        "incident_id": "inc-1",
        "service": "checkout",
        "kind": "error_rate",
        "opened_at": "2026-11-24T12:03:00+00:00",
    }


def test_unknown_event_shape_is_refused():
    with pytest.raises(ValueError, match="SQS batch"):
        remediator.handler({"hello": "world"}, None)
