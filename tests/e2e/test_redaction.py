"""Secrets through the deployed functions (the real zips): what they log, raise and hand to Step Functions is masked.

Each test plants a secret of the redaction corpus where a function reads untrusted text (an alarm's reason, an
injector request, an incident message from the queue) and looks where it would land: the function's log group,
the error the caller gets, the execution's input.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from healops.deploy.stack import StackInfo
from healops.redaction import MASK
from tests.e2e.stack_calls import invoke
from tests.e2e.test_remediation import incident_body, run_to_end
from tests.helpers import wait_for

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "redaction_corpus.json").read_text())
# One line each (an alarm reason, a fault name of at most 64 characters, a summary).
ONE_LINE = [c for c in CORPUS["secrets"] if "\n" not in c["text"]]
SHORT = [c for c in ONE_LINE if len(c["text"]) <= 64]
EVENTS = Path(__file__).parents[1] / "events"
# Services no other e2e file touches (tests/e2e/test_remediation.py lists the ones it uses).
REFUSED_SERVICE = "edge-1"
INCIDENT_SERVICE = "payments-1"


def leaked(texts: list[str], cases: list[dict[str, Any]]) -> list[str]:
    return [c["shape"] for c in cases if any(c["secret"] in t for t in texts)]


def function_log(aws: Any, stack: StackInfo, function: str, marker: str) -> list[str]:
    """The messages of ``function``'s log group that contain ``marker``."""
    logs = aws("logs")
    group = stack.outputs["cloudwatch_lambda_log_group_names"][function]
    try:
        events = logs.filter_log_events(logGroupName=group, filterPattern=f'"{marker}"')["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in events]


def test_the_detector_logs_and_answers_an_alarms_reason_masked(stack: StackInfo, aws: Any) -> None:
    marker = f"e2e-redaction-{uuid.uuid4().hex[:8]}"  # an alarm of no service: no incident is opened
    cases = ONE_LINE[:20]
    event = json.loads((EVENTS / "alarm_state_change.json").read_text())
    event["detail"]["alarmName"] = marker
    event["detail"]["state"]["reason"] = "Threshold Crossed: " + " | ".join(c["text"] for c in cases)
    answer = invoke(aws, "detector", event)
    lines = wait_for(lambda: function_log(aws, stack, "detector", marker), timeout=30, what="the detector's log line")
    assert MASK in lines[0] and json.loads(lines[0])["alarm_name"] == marker
    assert not leaked(lines, cases)
    # Nor does the answer to its caller carry it.
    assert MASK in answer["reason"] and not leaked([json.dumps(answer)], cases)


def test_the_injector_refuses_a_fault_naming_a_secret_and_neither_its_log_nor_its_error_has_it(
    stack: StackInfo, aws: Any
) -> None:
    case = SHORT[0]
    marker = f"e2e-redaction-{uuid.uuid4().hex[:8]}"
    request = {"action": "inject", "service": REFUSED_SERVICE, "fault": case["text"], "requested_by": marker}
    answer = aws("lambda").invoke(FunctionName="injector", Payload=json.dumps(request))
    error = json.loads(answer["Payload"].read())
    assert answer["FunctionError"] == "Unhandled" and error["errorType"] == "InvalidInjectorRequestError"
    assert "unknown fault" in error["errorMessage"] and MASK in error["errorMessage"], error
    assert not leaked([json.dumps(error)], [case])
    # The request's line, the refusal's, and the runtime's report of the error.
    lines = wait_for(
        lambda: (found := function_log(aws, stack, "injector", "unknown fault")) and found,
        timeout=30,
        what="the injector's log lines",
    )
    lines += function_log(aws, stack, "injector", "injector request")
    assert any("injector request refused" in line for line in lines), lines
    assert not leaked(lines, [case])


def test_the_remediator_starts_an_execution_with_the_incidents_text_masked(stack: StackInfo, aws: Any) -> None:
    """A message from a producer that did not redact (the detector does): the execution's input, kept in its
    history and published raw by the escalation's fallback, is masked."""
    incident_id = f"e2e-redaction-{uuid.uuid4().hex[:8]}"
    cases = [c for c in ONE_LINE if len(c["text"]) < 120][:12]
    summary = " | ".join(c["text"] for c in cases)[:2000]
    body = {**json.loads(incident_body(incident_id, INCIDENT_SERVICE, "error_storm")), "summary": summary}
    aws("sqs").send_message(QueueUrl=stack.outputs["sqs_incidents_queue_url"], MessageBody=json.dumps(body))
    final = run_to_end(aws, stack, incident_id)
    given = json.loads(final["input"])
    assert given["incident_id"] == incident_id and MASK in given["summary"]
    assert not leaked([final["input"], final.get("output") or ""], cases)
