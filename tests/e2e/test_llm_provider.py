"""The deployed planner plans with a non-offline provider: SSM ``/healops/llm/*`` point it at a stub
OpenAI-compatible server on 127.0.0.1, a fault is injected, the detector opens the incident and the plan step
asks the stub (which sees the incident's signals and log lines), uses its answer, and records the call in
``llm_actions``. The offline provider is restored afterwards, and shown to be back.

Settings are cached: a warm planner keeps what it read from SSM for 300 s (Powertools' parameters cache,
healops/llm/settings.py). As an operator would to apply a change at once, the test updates the planner's
configuration, which starts fresh execution environments (the embedded runtime, like Lambda, retires workers
whose configuration changed); they read the new settings on their first plan.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from healops.bench.llm_stub import StubLLMServer, StubReply, StubRequest, answer
from healops.deploy.stack import StackInfo
from healops.store.incidents import IncidentsRepository
from healops.store.llm_actions import LlmActionsRepository, LlmCallRecord
from healops.store.remediations import RemediationsRepository
from tests.e2e.stack_calls import invoke, tables
from tests.helpers import wait_for

SERVICE = "search-2"  # no other e2e file touches it
QUIET_SERVICE = "edge-2"  # for the hand-made incident after the restore
MODEL = "stub-e2e-model"
API_KEY = "sk-e2e-stub-key-0123456789abcdef"
MARKER = "stub-e2e: a restart clears the error storm"
FUNCTION = "planner"  # the Plan state's function: the only one that reads the LLM settings


def stub_answer(request: StubRequest) -> StubReply:
    """Restart the incident's service, with a rationale the test can find downstream."""
    service = request.document["incident"]["service"]
    plan = [{"action": "restart_service", "service": service, "rationale": MARKER}]
    return StubReply(answer(plan, "error_storm", [service]))


def fresh_environments(aws: Any, variables: dict[str, str]) -> None:
    """Set the planner's environment, so the next invocations run in fresh workers."""
    lam = aws("lambda")
    lam.update_function_configuration(FunctionName=FUNCTION, Environment={"Variables": variables})
    wait_for(
        lambda: (
            lam.get_function_configuration(FunctionName=FUNCTION).get("LastUpdateStatus", "Successful") == "Successful"
        ),
        timeout=30,
        what="the planner's configuration update",
    )


@pytest.fixture
def openai_stub(stack: StackInfo, aws: Any) -> Iterator[StubLLMServer]:
    """The planner pointed at a stub OpenAI-compatible server through SSM; offline again afterwards."""
    ssm, lam = aws("ssm"), aws("lambda")
    original_env = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    path = original_env["HEALOPS_LLM_PARAMETERS_PATH"]
    before = {p["Name"]: p for p in ssm.get_parameters_by_path(Path=path, WithDecryption=True).get("Parameters", [])}
    with StubLLMServer(stub_answer) as server:
        settings = {"provider": "openai", "model": MODEL, "openai_base_url": f"{server.url}/v1"}
        for name, value in settings.items():
            ssm.put_parameter(Name=f"{path}/{name}", Value=value, Type="String", Overwrite=True)
        ssm.put_parameter(Name=f"{path}/openai_api_key", Value=API_KEY, Type="SecureString", Overwrite=True)
        fresh_environments(aws, {**original_env, "HEALOPS_E2E_LLM_SETTINGS": uuid.uuid4().hex[:8]})
        try:
            yield server
        finally:
            for name in (*settings, "openai_api_key"):
                full = f"{path}/{name}"
                if full in before:
                    kept = before[full]
                    ssm.put_parameter(Name=full, Value=kept["Value"], Type=kept["Type"], Overwrite=True)
                else:
                    ssm.delete_parameter(Name=full)
            fresh_environments(aws, original_env)


def llm_calls(aws: Any, stack: StackInfo, incident_id: str) -> list[LlmCallRecord]:
    calls, _ = LlmActionsRepository(tables(stack)["llm_actions"], aws("dynamodb")).for_incident(incident_id)
    return calls


def execution_ended(aws: Any, stack: StackInfo, name: str) -> dict[str, Any] | None:
    sfn = aws("stepfunctions")
    arn = f"{stack.outputs['sfn_state_machine_arn'].replace(':stateMachine:', ':execution:')}:{name}"
    try:
        described = sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return None
    return described if described["status"] != "RUNNING" else None


def test_the_deployed_planner_plans_with_an_openai_compatible_stub_and_records_it(
    stack: StackInfo, aws: Any, openai_stub: StubLLMServer
) -> None:
    since = datetime.now(UTC).isoformat()
    invoke(aws, "injector", {"action": "clear", "service": SERVICE, "requested_by": "e2e"})
    invoke(
        aws,
        "injector",
        {"action": "inject", "service": SERVICE, "fault": "error_storm", "params": {}, "requested_by": "e2e"},
    )
    try:
        incidents = IncidentsRepository(tables(stack)["incidents"], aws("dynamodb"))
        incident_id = wait_for(
            lambda: next((i["incident_id"] for i in incidents.by_service(SERVICE, since=since).items), None),
            timeout=90,
            interval=0.5,
            what=f"the detector to open an incident on {SERVICE}",
        )
        calls = wait_for(
            lambda: [c for c in llm_calls(aws, stack, incident_id) if c.provider != "offline"] or None,
            timeout=30,
            interval=0.5,
            what=f"the plan of {incident_id} to be recorded",
        )
        ended = wait_for(
            lambda: execution_ended(aws, stack, incident_id), timeout=120, interval=0.5, what="the remediation"
        )
    finally:
        invoke(aws, "injector", {"action": "clear", "service": SERVICE, "requested_by": "e2e"})

    [call] = calls
    every = llm_calls(aws, stack, incident_id)
    assert (call.provider, call.model, call.validation) == ("openai", MODEL, "valid"), every
    assert not call.fallback_taken and MARKER in call.response
    assert [c.provider for c in every] == ["openai"], "the offline reasoner stepped in"
    # The stub saw what the deployed planner gathers: the signals that opened it, log lines, the graph.
    [request] = [r for r in openai_stub.requests if r.document["incident"]["id"] == incident_id]
    document = request.document
    assert document["incident"]["service"] == SERVICE
    assert document["signals"] and all(s["service"] for s in document["signals"])
    assert document["untrusted_data"]["logs"], "no log lines reached the model"
    # Its dependency and its dependents (the services that call it).
    assert document["depends_on"].get(SERVICE) and any(
        SERVICE in deps for name, deps in document["depends_on"].items() if name != SERVICE
    )
    assert API_KEY in request.headers.get("authorization", "") and API_KEY not in json.dumps(request.body)
    # Its answer is what the remediator acted on.
    attempts = RemediationsRepository(tables(stack)["remediations"], aws("dynamodb")).for_incident(incident_id).items
    assert attempts and attempts[0]["planner"] == f"openai:{MODEL}" and attempts[0]["rationale"] == MARKER
    assert attempts[0]["action"] == "restart_service" and attempts[0]["service"] == SERVICE
    outcomes = [{k: a.get(k) for k in ("outcome", "verification")} for a in attempts]
    assert ended["status"] == "SUCCEEDED", json.dumps(outcomes)


def test_the_offline_provider_is_back_for_the_other_tests(stack: StackInfo, aws: Any) -> None:
    incident_id = f"e2e-llm-restored-{uuid.uuid4().hex[:6]}"
    body = {
        "incident_id": incident_id,
        "service": QUIET_SERVICE,
        "kind": "error_rate",
        "opened_at": datetime.now(UTC).isoformat(),
        "severity": "low",
        "summary": "e2e: is the offline reasoner back?",
    }
    aws("sqs").send_message(QueueUrl=stack.outputs["sqs_incidents_queue_url"], MessageBody=json.dumps(body))
    calls = wait_for(lambda: llm_calls(aws, stack, incident_id) or None, timeout=30, interval=0.5, what="the plan")
    assert [(c.provider, c.fallback_taken) for c in calls] == [("offline", False)]
