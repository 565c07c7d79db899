"""Every write of a repository redacts every field, declared free text or not: keys, the task token and numbers are
kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.store.agent_decisions import AgentDecisionsRepository, DecisionStep
from healops.store.incidents import IncidentRecord, IncidentsRepository
from healops.store.llm_actions import LlmActionsRepository, LlmCallRecord
from healops.store.remediations import RemediationAttempt, RemediationsRepository

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # an AWS secret access key: 40 characters
LEAK = f"aws_access_key_id AKIAQX7RZ2M4N5P6Q7R8 secret {SECRET_KEY} mail jane.oncall@example.com"
# A Step Functions task token: long, base64-like, and no secret to redact (approvals need it intact).
TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAc3Ry+aW5nL2Zvb2Jhcg==" + "x" * 60


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, ["incidents", "remediations", "agent_decisions", "llm_actions"])
        yield dynamodb


def raw(client: Any, table: str, key: dict[str, str]) -> str:
    item = client.get_item(TableName=table, Key={k: {"S": v} for k, v in key.items()})["Item"]
    return str(item)


def test_incident_summary_signals_and_escalation_reason_are_redacted_on_create_and_update(client: Any) -> None:
    repo = IncidentsRepository("incidents", client)
    repo.create_if_absent(
        IncidentRecord(incident_id="inc-1", service="auth", kind="x", summary=LEAK, signals=[{"detail": LEAK}])
    )
    repo.transition("inc-1", "escalated", escalation_reason=f"step failed: {LEAK}")
    stored = raw(client, "incidents", {"incident_id": "inc-1"})
    assert "AKIAQX7RZ2M4" not in stored and SECRET_KEY[:10] not in stored and "jane.oncall" not in stored
    record = repo.get("inc-1")
    assert record is not None and record.escalation_reason == "step failed: " + (
        "aws_access_key_id [REDACTED] secret [REDACTED] mail [REDACTED]"
    )
    assert record.signals == [{"detail": "aws_access_key_id [REDACTED] secret [REDACTED] mail [REDACTED]"}]


def test_attempts_redact_their_text_and_keep_the_task_token(client: Any) -> None:
    repo = RemediationsRepository("remediations", client)
    attempt = RemediationAttempt(
        incident_id="inc-1",
        attempt_id="0001-restart_service",
        service="auth",
        action="restart_service",
        planner="offline",
        rationale=LEAK,
        guard_decision="needs_approval",
        guard_reasons=[LEAK],
    )
    repo.record(attempt)
    repo.update(attempt, task_token=TASK_TOKEN, error=LEAK, verification_detail=LEAK, compensation=LEAK)
    stored = repo.get("inc-1", "0001-restart_service")
    assert stored is not None and stored.task_token == TASK_TOKEN  # type: ignore[attr-defined]
    text = raw(client, "remediations", {"incident_id": "inc-1", "attempt_id": "0001-restart_service"})
    assert "AKIAQX7RZ2M4" not in text and SECRET_KEY[:10] not in text and "jane.oncall" not in text


def test_reasoning_steps_and_llm_calls_redact_their_text(client: Any) -> None:
    AgentDecisionsRepository("agent_decisions", client).append(
        "inc-1",
        [DecisionStep(phase="concluded", title="t " + LEAK, detail=LEAK, data={"evidence": [LEAK]})],
        "2026-11-25T00:00:00+00:00",
    )
    LlmActionsRepository("llm_actions", client).record(
        LlmCallRecord(
            incident_id="inc-1",
            call_id="2026-11-25T00:00:00+00:00#1",
            at="2026-11-25T00:00:00+00:00",
            provider="x",
            model="y",
            prompt=LEAK,
            response=LEAK,
            validation="error",
            errors=[LEAK],
            fallback_reason=LEAK,
        )
    )
    for table in ("agent_decisions", "llm_actions"):
        items = client.query(
            TableName=table, KeyConditionExpression="incident_id = :i", ExpressionAttributeValues={":i": {"S": "inc-1"}}
        )["Items"]
        text = str(items)
        assert items and "[REDACTED]" in text, table
        assert "AKIAQX7RZ2M4" not in text and SECRET_KEY[:10] not in text and "jane.oncall" not in text, table


def test_a_secret_in_a_field_nobody_declared_as_text_is_redacted_too(client: Any) -> None:
    # Action parameters, a model's extra field, the human who answered: none is "free text", all are written.
    repo = RemediationsRepository("remediations", client)
    attempt = RemediationAttempt(
        incident_id="inc-2",
        attempt_id="0001-rollback",
        service="auth",
        action="rollback",
        params={"version": "v2", "note": LEAK},
        planner=f"openai {LEAK}",
        guard_decision="allow",
        view_before={"env": {"DB_URL": "postgres://app:hunter2hunter2@db:5432/main"}},
        approval_by=LEAK,
    )
    repo.record(attempt)
    text = raw(client, "remediations", {"incident_id": "inc-2", "attempt_id": "0001-rollback"})
    assert "AKIAQX7RZ2M4" not in text and SECRET_KEY[:10] not in text and "jane.oncall" not in text
    assert "hunter2hunter2" not in text and "'v2'" in text  # the harmless parameter kept as it was
    IncidentsRepository("incidents", client).create_if_absent(
        IncidentRecord(incident_id="inc-2", service="auth", kind=f"errors {SECRET_KEY}")
    )
    assert SECRET_KEY[:10] not in raw(client, "incidents", {"incident_id": "inc-2"})


def test_a_value_is_redacted_as_the_value_of_its_name(client: Any) -> None:
    """ "hunter2-horse" alone is no secret; under "password" it is: a field's name is the context of its value."""
    repo = IncidentsRepository("incidents", client)
    signals = [{"password": "hunter2-horse", "headers": {"authorization": "basic dTo3em9RUWVENU82"}, "kind": "log"}]
    repo.create_if_absent(IncidentRecord(incident_id="inc-2", service="auth", kind="x", signals=signals))
    record = repo.get("inc-2")
    assert record is not None and record.signals == [
        {"password": "[REDACTED]", "headers": {"authorization": "basic [REDACTED]"}, "kind": "log"}
    ]
