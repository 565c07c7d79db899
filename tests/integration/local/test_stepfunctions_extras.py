"""Step Functions extras in a running embedded cloud, through boto3: what the Terraform provider
calls and moto does not answer (ValidateStateMachineDefinition, ListStateMachineVersions), and
Wait states that end ``time_scale`` times sooner.

The cloud runs once at time scale 1 and once at 10 (module-scoped, one after the other: the
extension follows the time scale of the cloud that installed it last).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from healops.local.stepfunctions import StepFunctionsExtras
from tests.conftest import make_client

ROLE_ARN = "arn:aws:iam::123456789012:role/sfn-test"

# The shapes of terraform/orchestration.tf: Pass, Task with Retry/Catch, Choice with Default, Wait, Fail, Succeed.
VALID_DEFINITION = {
    "Comment": "valid",
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Parameters": {"incident.$": "$"}, "Next": "Plan"},
        "Plan": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:remediator",
            "ResultPath": "$.run",
            "TimeoutSeconds": 30,
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Escalated"}],
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.run.route", "StringEquals": "wait", "Next": "Settle"}],
            "Default": "Escalated",
        },
        "Settle": {"Type": "Wait", "SecondsPath": "$.run.wait_s", "Next": "Resolved"},
        "Escalated": {"Type": "Fail", "Error": "Remediation.Escalated", "Cause": "escalated"},
        "Resolved": {"Type": "Succeed"},
    },
}


def _definition(states: dict[str, Any], start: str = "A") -> str:
    return json.dumps({"StartAt": start, "States": states})


@pytest.fixture(scope="module", params=[1.0, 10.0], ids=["time-scale-1", "time-scale-10"])
def cloud(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("sfn-extras"), time_scale=request.param)
    with EmbeddedCloud(ctx, extensions=[StepFunctionsExtras()]) as running:
        yield running


@pytest.fixture
def sfn(cloud: EmbeddedCloud) -> Any:
    return make_client(cloud.endpoint_url, "stepfunctions")


@pytest.fixture
def machine(sfn: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """``machine(definition, publish=...)``: a state machine with a unique name, deleted afterwards."""
    made: list[str] = []

    def create(definition: str, **options: Any) -> dict[str, Any]:
        created = sfn.create_state_machine(
            name=f"extras-{uuid.uuid4().hex[:8]}", definition=definition, roleArn=ROLE_ARN, **options
        )
        made.append(created["stateMachineArn"])
        return created

    yield create
    for arn in made:
        sfn.delete_state_machine(stateMachineArn=arn)


# -- ValidateStateMachineDefinition ---------------------------------------------------------


def test_a_valid_definition_is_ok_with_no_diagnostics(sfn: Any) -> None:
    answer = sfn.validate_state_machine_definition(definition=json.dumps(VALID_DEFINITION), type="STANDARD")
    assert (answer["result"], answer["diagnostics"], answer["truncated"]) == ("OK", [], False)


@pytest.mark.parametrize(
    ("definition", "code", "message", "location"),
    [
        ('{"StartAt": "A", "States": {', "INVALID_JSON_DESCRIPTION", "not JSON", None),
        (_definition({"A": {"Type": "Bogus", "End": True}}), "SCHEMA_VALIDATION_FAILED", '"Bogus"', None),
        (_definition({"A": {"Type": "Wait", "End": True}}), "SCHEMA_VALIDATION_FAILED", "WaitFunction", None),
        (
            _definition({"A": {"Type": "Pass", "Next": "Gone"}}),
            "MISSING_TRANSITION_TARGET",
            "Missing 'Next' target: Gone",
            "/States/A/Next",
        ),
        (
            _definition({"A": {"Type": "Pass", "End": True}, "B": {"Type": "Succeed"}}),
            "MISSING_TRANSITION_TARGET",
            'State "B" is not reachable.',
            "/States/B",
        ),
        (
            _definition(
                {
                    "A": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.x", "StringEquals": "y", "Next": "B"}],
                        "Default": "Nowhere",
                    },
                    "B": {"Type": "Succeed"},
                }
            ),
            "MISSING_TRANSITION_TARGET",
            "Missing 'Next' target: Nowhere",
            "/States/A/Default",
        ),
        (
            _definition(
                {
                    "A": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}],
                        "End": True,
                    }
                }
            ),
            "MISSING_TRANSITION_TARGET",
            "Missing 'Next' target: Handler",
            "/States/A/Catch/0/Next",
        ),
        (
            _definition(
                {
                    "A": {
                        "Type": "Parallel",
                        "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "A"}}}],
                        "End": True,
                    }
                }
            ),
            "MISSING_TRANSITION_TARGET",
            "Missing 'Next' target: A",  # a branch cannot leave its own scope
            "/States/A/Branches/0/States/P/Next",
        ),
    ],
    ids=[
        "not-json",
        "unknown-type",
        "wait-without-time",
        "dangling-next",
        "unreachable",
        "choice-default",
        "catch",
        "branch",
    ],
)
def test_an_invalid_definition_fails_with_a_diagnostic_the_provider_can_show(
    sfn: Any, definition: str, code: str, message: str, location: str | None
) -> None:
    # The provider reads result == FAIL and reports each diagnostic's severity, code and message.
    answer = sfn.validate_state_machine_definition(definition=definition, type="STANDARD")
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"], answer
    found = next((d for d in answer["diagnostics"] if d["code"] == code and message in d["message"]), None)
    assert found is not None, answer["diagnostics"]
    assert found["severity"] == "ERROR"
    assert found.get("location") == location


# -- ListStateMachineVersions ---------------------------------------------------------------


def test_published_versions_are_listed_newest_first(sfn: Any, machine: Callable[..., dict[str, Any]]) -> None:
    definition = json.dumps(VALID_DEFINITION)
    created = machine(definition, publish=True)
    arn = created["stateMachineArn"]
    second = sfn.update_state_machine(
        stateMachineArn=arn, definition=definition.replace('"valid"', '"valid, v2"'), publish=True
    )
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [f"{arn}:2", f"{arn}:1"]
    assert listed[0]["stateMachineVersionArn"] == second["stateMachineVersionArn"]
    assert listed[1]["stateMachineVersionArn"] == created["stateMachineVersionArn"]
    assert listed[0]["creationDate"] >= listed[1]["creationDate"]


def test_a_machine_never_published_has_no_versions(sfn: Any, machine: Callable[..., dict[str, Any]]) -> None:
    arn = machine(json.dumps(VALID_DEFINITION))["stateMachineArn"]
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []


def test_versions_of_an_unknown_machine_is_an_error(sfn: Any) -> None:
    with pytest.raises(ClientError) as raised:
        sfn.list_state_machine_versions(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:ghost")
    assert raised.value.response["Error"]["Code"] == "StateMachineDoesNotExist"


# -- Wait states on the scaled clock --------------------------------------------------------

WAIT_SECONDS = 2  # each of the two Wait states: 4 s of waiting at scale 1, 0.4 s at scale 10
SLACK_S = 0.35  # scheduling and history bookkeeping on a busy two-core machine


def wait_durations(sfn: Any, execution_arn: str) -> dict[str, float]:
    """Seconds between each Wait state's entry and exit, from the execution history."""
    entered: dict[str, Any] = {}
    durations: dict[str, float] = {}
    for event in sfn.get_execution_history(executionArn=execution_arn)["events"]:
        if event["type"] == "WaitStateEntered":
            entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif event["type"] == "WaitStateExited":
            name = event["stateExitedEventDetails"]["name"]
            durations[name] = (event["timestamp"] - entered[name]).total_seconds()
    return durations


def test_wait_states_end_time_scale_times_sooner(
    sfn: Any, machine: Callable[..., dict[str, Any]], cloud: EmbeddedCloud
) -> None:
    scale = cloud.ctx.time_scale
    definition = _definition(
        {
            "Fixed": {"Type": "Wait", "Seconds": WAIT_SECONDS, "Next": "FromInput"},
            # SecondsPath, as the remediation machine's Settle and Backoff states wait.
            "FromInput": {"Type": "Wait", "SecondsPath": "$.wait_s", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
        start="Fixed",
    )
    arn = machine(definition)["stateMachineArn"]
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"wait_s": WAIT_SECONDS}))["executionArn"]
    deadline = started + 2 * WAIT_SECONDS / scale + 10
    while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not finish"
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    assert status == "SUCCEEDED"
    expected = WAIT_SECONDS / scale
    durations = wait_durations(sfn, execution)
    assert set(durations) == {"Fixed", "FromInput"}
    for name, seconds in durations.items():
        # History timestamps have millisecond resolution: allow one tick of rounding below.
        assert expected - 0.002 <= seconds <= expected + SLACK_S, (name, seconds, expected)
    assert 2 * expected - 0.002 <= elapsed <= 2 * expected + 2 * SLACK_S + 1.0
