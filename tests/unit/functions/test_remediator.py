from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto import mock_aws
from pydantic import ValidationError

from tests.unit.functions.conftest import load_handler

remediator = load_handler("remediator")
POISON_ID = "22222222-2222-4222-8222-222222222222"


@pytest.fixture
def state_machine(monkeypatch):
    with mock_aws():
        remediator.stepfunctions.cache_clear()
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


def test_batch_starts_one_execution_per_incident_and_fails_only_the_poison_record(event, state_machine):
    sfn, arn = state_machine

    response = remediator.handler(event("sqs_incidents_batch"), None)

    assert response == {"batchItemFailures": [{"itemIdentifier": POISON_ID}]}
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == ["inc-checkout-error_rate-20261124T1203"]
    started = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(started["input"])["service"] == "checkout"


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


def test_plan_task_with_a_malformed_incident_is_refused(event):
    task = event("remediator_plan_task")
    task = {"step": "plan", "state": {"incident": {**task["incident"], "incident_id": "no spaces allowed"}}}
    with pytest.raises(ValidationError, match="incident_id"):
        remediator.handler(task, None)


def test_a_step_other_than_plan_needs_the_run():
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
