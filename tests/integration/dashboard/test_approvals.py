"""Approve/deny completes a real Step Functions task token; writes need the token and a CSRF token."""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

import pytest

from healops.dashboard.approvals import ApprovalError, ApprovalResult, answer
from healops.store.remediations import RemediationAttempt
from tests.dashboard_support import DashboardStack, seed_incident
from tests.helpers import wait_for
from tests.integration.dashboard.conftest import TOKEN

# The remediator's approval step in miniature: a task that hands its token out and waits for an answer.
DEFINITION = {
    "StartAt": "AwaitApproval",
    "States": {
        "AwaitApproval": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "QUEUE", "MessageBody": {"token.$": "$$.Task.Token"}},
            "Catch": [{"ErrorEquals": ["Remediation.Denied"], "Next": "Denied"}],
            "End": True,
        },
        "Denied": {"Type": "Pass", "Result": "denied", "End": True},
    },
}


@pytest.fixture
def pending(stack: DashboardStack) -> dict[str, Any]:
    """An incident whose attempt waits for a human, with the execution's real task token."""
    sqs, sfn = stack.client("sqs"), stack.client("stepfunctions")
    queue = sqs.create_queue(QueueName=f"{stack.prefix}-approvals")["QueueUrl"]
    definition = json.dumps(DEFINITION).replace("QUEUE", queue)
    machine = sfn.create_state_machine(
        name=f"{stack.prefix}-approve", definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name=f"x-{uuid.uuid4().hex[:8]}")["executionArn"]

    def token() -> str | None:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        return json.loads(messages[0]["Body"])["token"] if messages else None

    task_token = wait_for(token, timeout=20, what="the task token on the queue")
    seed_incident(stack, "inc-approve", service="payments", status="remediating")
    stack.resources.remediations.record(
        RemediationAttempt(
            incident_id="inc-approve",
            attempt_id="0001-rollback",
            service="payments",
            action="rollback",
            planner="offline",
            guard_decision="needs_approval",
            guard_reasons=["blast radius HIGH is at or above HIGH: a human must approve"],
            task_token=task_token,
        )
    )
    return {"execution": execution, "sfn": sfn, "token": task_token}


def csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def sign_in(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"token": TOKEN, "csrf_token": csrf_from(page), "next": "/"})
    assert response.status_code == 302


def status_of(pending: dict[str, Any]) -> str:
    return pending["sfn"].describe_execution(executionArn=pending["execution"])["status"]


def test_approving_from_the_page_completes_the_task_and_records_who(
    stack: DashboardStack, client: Any, pending: dict[str, Any]
) -> None:
    before = client.get("/incidents/inc-approve").get_data(as_text=True)
    assert "enter the write token" in before and "approve</button>" not in before
    assert pending["token"] not in before  # the task token never reaches a page
    sign_in(client)
    page = client.get("/incidents/inc-approve").get_data(as_text=True)
    assert "approve</button>" in page
    answered = client.post(
        "/incidents/inc-approve/approvals/0001-rollback",
        data={"decision": "approve", "reason": "looks right", "csrf_token": csrf_from(page)},
    )
    assert answered.status_code == 302
    assert wait_for(lambda: status_of(pending) == "SUCCEEDED", timeout=20, what="the execution to succeed")
    attempt = stack.resources.remediations.get("inc-approve", "0001-rollback")
    assert attempt is not None
    recorded = attempt.model_dump()
    assert recorded["approval"] == "approved" and recorded["approval_by"] == "dashboard"
    steps, _ = stack.resources.agent_decisions.for_incident("inc-approve")
    assert (steps[-1].actor, steps[-1].phase) == ("human", "approved")
    assert steps[-1].title == "dashboard approved rollback on payments" and steps[-1].detail == "looks right"
    again = client.post(
        "/incidents/inc-approve/approvals/0001-rollback", data={"decision": "deny", "csrf_token": csrf_from(page)}
    )
    assert again.status_code == 409 and "not awaiting approval" in again.get_data(as_text=True)


def test_a_form_post_without_the_session_token_or_csrf_changes_nothing(
    stack: DashboardStack, client: Any, pending: dict[str, Any]
) -> None:
    page = client.get("/login").get_data(as_text=True)
    no_session = client.post(
        "/incidents/inc-approve/approvals/0001-rollback", data={"decision": "approve", "csrf_token": csrf_from(page)}
    )
    assert no_session.status_code == 403
    sign_in(client)
    no_csrf = client.post("/incidents/inc-approve/approvals/0001-rollback", data={"decision": "approve"})
    assert no_csrf.status_code == 400 and "CSRF" in no_csrf.get_data(as_text=True)
    wrong = client.post("/login", data={"token": "guess", "csrf_token": csrf_from(page)})
    assert wrong.status_code in (400, 403)
    assert status_of(pending) == "RUNNING"
    unchanged = stack.resources.remediations.get("inc-approve", "0001-rollback").model_dump()  # type: ignore[union-attr]
    assert unchanged["task_token"] and not unchanged.get("approval")


def test_denying_through_the_api_needs_the_bearer_token_and_fails_the_task(
    client: Any, pending: dict[str, Any]
) -> None:
    url = "/api/incidents/inc-approve/approvals/0001-rollback"
    assert client.post(url, json={"decision": "deny"}).status_code == 401
    wrong = client.post(url, json={"decision": "deny"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    bad = client.post(url, json={"decision": "maybe"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and "approve" in bad.get_json()["error"]
    denied = client.post(
        url,
        json={"decision": "deny", "reason": "too risky", "by": "oncall"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert denied.status_code == 200 and denied.get_json()["decision"] == "denied"
    # The deny path the real state machine takes: its Catch on Remediation.Denied.
    assert wait_for(lambda: status_of(pending) == "SUCCEEDED", timeout=20, what="the execution's deny path")
    history = pending["sfn"].get_execution_history(executionArn=pending["execution"])["events"]
    assert any(e.get("stateEnteredEventDetails", {}).get("name") == "Denied" for e in history)


def test_of_answers_given_at_once_the_first_wins_and_the_rest_get_409(
    stack: DashboardStack, client: Any, pending: dict[str, Any]
) -> None:
    answers = [(n % 2 == 0, f"human-{n}") for n in range(6)]  # approvals and denials, all at once
    start = threading.Barrier(len(answers))
    won: list[ApprovalResult] = []
    refused: list[ApprovalError] = []

    def answer_one(approve: bool, by: str) -> None:
        start.wait(timeout=10)
        try:
            won.append(answer(stack.resources, "inc-approve", "0001-rollback", approve, by))
        except ApprovalError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=answer_one, args=a) for a in answers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1 and len(refused) == len(answers) - 1
    recorded = stack.resources.remediations.get("inc-approve", "0001-rollback").model_dump()  # type: ignore[union-attr]
    assert (recorded["approval"], recorded["approval_by"]) == (won[0].decision, won[0].by)
    assert wait_for(lambda: status_of(pending) == "SUCCEEDED", timeout=20, what="the winner's answer to complete it")
    # Through the API, a later answer is a 409 with the reason, and the winner's record is untouched.
    late = client.post(
        "/api/incidents/inc-approve/approvals/0001-rollback",
        json={"decision": "deny"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert late.status_code == 409
    again = stack.resources.remediations.get("inc-approve", "0001-rollback").model_dump()  # type: ignore[union-attr]
    assert (again["approval"], again["approval_by"]) == (won[0].decision, won[0].by)
