"""A Step Functions execution whose Lambda task fails once is retried and succeeds, on the embedded stack."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.helpers import zipped

FLAKY_HANDLER = """

CALLS = {"n": 0}


def handler(event, context):
    # The worker process stays warm, so this counter spans invocations: the first one fails.
    CALLS["n"] += 1
    if CALLS["n"] == 1:
        raise RuntimeError("transient failure on the first call")
    return {"calls": CALLS["n"], "echo": event}
"""


def _wait_for_end(sfn: Any, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=execution_arn)
        if desc["status"] != "RUNNING":
            return desc
        time.sleep(0.2)
    raise AssertionError(f"execution {execution_arn} still running after {timeout} s")


def test_lambda_task_that_fails_once_is_retried_and_succeeds(aws: Any) -> None:
    iam, lam, sfn = aws("iam"), aws("lambda"), aws("stepfunctions")
    role = iam.create_role(
        RoleName="e2e-flaky-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    fn = lam.create_function(
        FunctionName="e2e-flaky",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": FLAKY_HANDLER})},
        Timeout=10,
    )["FunctionArn"]
    definition = {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": fn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(name="e2e-flaky-machine", definition=json.dumps(definition), roleArn=role)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=machine, name="flaky-once", input=json.dumps({"x": 1}))
    desc = _wait_for_end(sfn, execution["executionArn"])
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"]) == {"calls": 2, "echo": {"x": 1}}
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    failed = [e for e in history if e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed"]
    assert len(failed) == 1, [e["type"] for e in history]
