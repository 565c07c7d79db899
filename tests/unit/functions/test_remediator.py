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


def test_batch_fails_as_a_whole_when_the_state_machine_is_not_configured(event, monkeypatch):
    # Every record failing makes the invocation fail (Powertools), so the Errors alarm sees it.
    monkeypatch.delenv("HEALOPS_STATE_MACHINE_ARN", raising=False)
    batch = event("sqs_incidents_batch")
    batch["Records"] = [batch["Records"][0]]

    with pytest.raises(BatchProcessingError, match="All records failed"):
        remediator.handler(batch, None)


def test_plan_task_answers_an_empty_plan_with_its_reason(event):
    assert remediator.handler(event("remediator_plan_task"), None) == {
        "incident_id": "inc-checkout-error_rate-20261124T1203",
        "actions": [],
        "reason": "no planner configured",
    }


def test_plan_task_with_a_malformed_incident_is_refused(event):
    task = event("remediator_plan_task")
    task["incident"]["incident_id"] = "no spaces allowed"
    with pytest.raises(ValidationError, match="incident_id"):
        remediator.handler(task, None)


def test_unknown_event_shape_is_refused():
    with pytest.raises(ValueError, match="SQS batch"):
        remediator.handler({"hello": "world"}, None)
