"""The embedded Lambda runtime through real boto3 calls against an in-process cloud."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from healops.local.awslambda import LambdaRuntime
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from tests.conftest import make_client
from tests.helpers import zipped

pytestmark = pytest.mark.timeout(120)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Cloud:
    def __init__(self, cloud: EmbeddedCloud, runtime: LambdaRuntime) -> None:
        self.cloud = cloud
        self.runtime = runtime
        self.endpoint = cloud.endpoint_url
        self.lam = make_client(self.endpoint, "lambda")
        self.role = make_client(self.endpoint, "iam").create_role(
            RoleName=unique("role"), AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]

    def function(self, code: str, handler: str = "app.handler", **settings: Any) -> str:
        name = unique("fn")
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=self.role,
            Handler=handler,
            Code={"ZipFile": zipped({"app.py": code})},
            **settings,
        )
        return name

    def invoke(self, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
        response = self.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
        body = response["Payload"].read()
        return response, json.loads(body) if body else None


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    runtime = LambdaRuntime()
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("lambda-state"))
    with EmbeddedCloud(ctx, extensions=[runtime]) as embedded:
        yield Cloud(embedded, runtime)


ECHO = """
import os

def handler(event, context):
    print("got", event)
    return {
        "event": event,
        "greeting": os.environ.get("GREETING"),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "region": os.environ["AWS_REGION"],
        "stream": context.log_stream_name,
    }
"""


def test_direct_invoke_returns_handler_result_with_env_and_context(cloud: Cloud) -> None:
    name = cloud.function(ECHO, Environment={"Variables": {"GREETING": "hello"}}, Timeout=7, MemorySize=256)

    response, result = cloud.invoke(name, {"n": 1})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert result["event"] == {"n": 1}
    assert result["greeting"] == "hello"
    assert result["function_name"] == name
    assert result["memory"] == "256"
    assert 5000 < result["remaining_ms"] <= 7000
    assert result["arn"].endswith(f":function:{name}")
    assert result["region"] == "us-east-1"
    assert result["stream"].split("/")[3].startswith("[$LATEST]")


def test_handler_reaches_the_endpoint_through_aws_endpoint_url(cloud: Cloud) -> None:
    bucket = unique("bucket")
    make_client(cloud.endpoint, "s3").create_bucket(Bucket=bucket)
    name = cloud.function(
        """
import boto3

def handler(event, context):
    boto3.client("s3").put_object(Bucket=event["bucket"], Key="from-lambda", Body=b"written")
    return "ok"
"""
    )

    response, result = cloud.invoke(name, {"bucket": bucket})

    assert "FunctionError" not in response, result
    body = make_client(cloud.endpoint, "s3").get_object(Bucket=bucket, Key="from-lambda")["Body"].read()
    assert body == b"written"


def test_handler_exception_is_an_unhandled_function_error_and_the_worker_survives(cloud: Cloud) -> None:
    name = cloud.function(
        """
import os

def handler(event, context):
    if event.get("fail"):
        raise ValueError("the input was bad")
    return os.getpid()
"""
    )
    _, first_pid = cloud.invoke(name)

    response, error = cloud.invoke(name, {"fail": True})
    _, pid_after = cloud.invoke(name)

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the input was bad"
    assert error["requestId"]
    assert any("raise ValueError" in frame for frame in error["stackTrace"])
    assert pid_after == first_pid


def test_timeout_kills_the_worker_and_the_next_invoke_gets_a_fresh_one(cloud: Cloud) -> None:
    name = cloud.function(
        """
import os, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return os.getpid()
""",
        Timeout=1,
    )
    _, first_pid = cloud.invoke(name)

    started = time.monotonic()
    response, error = cloud.invoke(name, {"sleep": 30})
    elapsed = time.monotonic() - started
    _, next_pid = cloud.invoke(name)

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert elapsed < 5
    assert not psutil.pid_exists(first_pid) or psutil.Process(first_pid).status() == psutil.STATUS_ZOMBIE
    assert next_pid != first_pid


def test_a_slow_cold_start_does_not_count_against_the_timeout(cloud: Cloud) -> None:
    # Loading the module takes longer than the function's timeout; AWS times init separately.
    name = cloud.function(
        """
import time
time.sleep(1.5)

def handler(event, context):
    return context.get_remaining_time_in_millis()
""",
        Timeout=1,
    )

    response, remaining_ms = cloud.invoke(name)

    assert "FunctionError" not in response, remaining_ms
    assert 500 < remaining_ms <= 1000


def test_the_first_invocation_still_times_out_once_the_handler_runs(cloud: Cloud) -> None:
    name = cloud.function(
        """
import time
time.sleep(0.5)

def handler(event, context):
    time.sleep(30)
""",
        Timeout=1,
    )

    started = time.monotonic()
    response, error = cloud.invoke(name)
    elapsed = time.monotonic() - started

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert 1.4 < elapsed < 5


def test_code_update_runs_the_new_code(cloud: Cloud) -> None:
    name = cloud.function("def handler(event, context):\n    return 'v1'\n")
    assert cloud.invoke(name)[1] == "v1"

    cloud.lam.update_function_code(
        FunctionName=name, ZipFile=zipped({"app.py": "def handler(event, context):\n    return 'v2'\n"})
    )

    assert cloud.invoke(name)[1] == "v2"


def test_configuration_update_restarts_the_worker_with_new_environment(cloud: Cloud) -> None:
    name = cloud.function(ECHO, Environment={"Variables": {"GREETING": "before"}})
    assert cloud.invoke(name)[1]["greeting"] == "before"

    cloud.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "after"}})

    assert cloud.invoke(name)[1]["greeting"] == "after"


def test_a_module_the_zip_does_not_vendor_fails_to_import(cloud: Cloud) -> None:
    # flask is installed in the server's environment, but a function only sees its zip and the runtime.
    name = cloud.function("import flask\n\ndef handler(event, context):\n    return 'unreachable'\n")

    response, error = cloud.invoke(name)

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'flask'"


def test_vendored_modules_and_runtime_libraries_import(cloud: Cloud) -> None:
    name = unique("fn")
    cloud.lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=cloud.role,
        Handler="app.handler",
        Code={
            "ZipFile": zipped(
                {
                    "app.py": "import helper, boto3, dateutil, jmespath\n"
                    "def handler(event, context):\n    return helper.VALUE\n",
                    "helper/__init__.py": "VALUE = 'vendored'\n",
                }
            )
        },
    )

    assert cloud.invoke(name)[1] == "vendored"


def test_a_handler_missing_from_its_module_is_handler_not_found(cloud: Cloud) -> None:
    name = cloud.function("def other(event, context):\n    return 1\n", handler="app.handler")

    _, error = cloud.invoke(name)

    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'handler' missing on module 'app'"


def test_a_result_that_is_not_json_is_a_marshal_error_not_a_crash(cloud: Cloud) -> None:
    name = cloud.function("def handler(event, context):\n    return {1, 2}\n")

    response, error = cloud.invoke(name)
    again, _ = cloud.invoke(name)

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.MarshalError"
    assert "not JSON serializable" in error["errorMessage"]
    assert again["StatusCode"] == 200


def test_logs_land_in_the_function_log_group_with_start_end_report(cloud: Cloud) -> None:
    name = cloud.function(
        """
import logging
logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    print("printed line")
    logging.info("logged line")
    return None
"""
    )
    response, _ = cloud.invoke(name, LogType="Tail")

    logs = make_client(cloud.endpoint, "logs")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert len(streams) == 1
    assert "/[$LATEST]" in streams[0]["logStreamName"]
    messages = [
        e["message"]
        for e in logs.get_log_events(
            logGroupName=f"/aws/lambda/{name}", logStreamName=streams[0]["logStreamName"], startFromHead=True
        )["events"]
    ]
    assert messages[0].startswith("START RequestId: ")
    assert "printed line" in messages
    assert any(m.startswith("[INFO]\t") and m.endswith("\tlogged line") for m in messages)
    assert messages[-2].startswith("END RequestId: ")
    assert messages[-1].startswith("REPORT RequestId: ") and "Billed Duration: " in messages[-1]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "printed line" in tail and "REPORT RequestId" in tail


def test_event_invoke_answers_202_at_once_and_the_handler_runs(cloud: Cloud) -> None:
    bucket = unique("bucket")
    s3 = make_client(cloud.endpoint, "s3")
    s3.create_bucket(Bucket=bucket)
    name = cloud.function(
        """
import time, boto3

def handler(event, context):
    time.sleep(1.0)
    boto3.client("s3").put_object(Bucket=event["bucket"], Key="async", Body=b"done")
"""
    )

    started = time.monotonic()
    response = cloud.lam.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"bucket": bucket}).encode()
    )
    answered_after = time.monotonic() - started

    assert response["StatusCode"] == 202
    assert answered_after < 0.5
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        if listed:
            break
        time.sleep(0.1)
    assert [obj["Key"] for obj in listed] == ["async"]


def test_different_functions_run_in_parallel(cloud: Cloud) -> None:
    code = "import time\n\ndef handler(event, context):\n    time.sleep(1.0)\n    return 'slept'\n"
    names = [cloud.function(code), cloud.function(code)]
    for name in names:
        cloud.invoke(name, {})  # warm both
    results: list[Any] = []

    def call(name: str) -> None:
        results.append(make_client(cloud.endpoint, "lambda").invoke(FunctionName=name)["Payload"].read())

    started = time.monotonic()
    threads = [threading.Thread(target=call, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [b'"slept"', b'"slept"']
    assert time.monotonic() - started < 1.9


def test_invocations_route_reports_each_function_last_invocation(cloud: Cloud) -> None:
    ok = cloud.function("def handler(event, context):\n    return 1\n")
    failing = cloud.function("def handler(event, context):\n    raise KeyError('x')\n")
    cloud.invoke(ok)
    cloud.invoke(failing)

    with urllib.request.urlopen(f"{cloud.endpoint}/_healops/lambda/invocations", timeout=5) as reply:
        records = json.loads(reply.read())

    assert records[ok]["last_outcome"] == "success"
    assert records[ok]["invocations"] == 1
    assert records[failing]["last_outcome"] == "error"
    assert records[failing]["last_error_type"] == "KeyError"
    assert records[failing]["errors"] == 1


def test_a_handler_that_exits_the_process_is_a_runtime_exit_error(cloud: Cloud) -> None:
    name = cloud.function("import os\n\ndef handler(event, context):\n    os._exit(3)\n")

    response, error = cloud.invoke(name)
    again, _ = cloud.invoke(name)

    assert response.get("FunctionError") == "Unhandled", (response, error)
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]
    assert again["FunctionError"] == "Unhandled"  # a fresh worker, which exits again


def test_step_functions_lambda_tasks_run_the_real_handler(cloud: Cloud) -> None:
    name = cloud.function("def handler(event, context):\n    return {'doubled': event['n'] * 2}\n")
    sfn = make_client(cloud.endpoint, "stepfunctions")
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": name, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(name=unique("sm"), definition=json.dumps(definition), roleArn=cloud.role)

    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"n": 21}))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.1)

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"doubled": 42}


# Last in this module: its own cloud sets the process-wide MOTO_PORT, which Step Functions follows.
def test_stop_leaves_no_worker_process(tmp_path: Path) -> None:
    runtime = LambdaRuntime()
    with EmbeddedCloud(EmbeddedContext(port=0, state_dir=tmp_path), extensions=[runtime]) as embedded:
        cloud = Cloud(embedded, runtime)
        idle = cloud.function("def handler(event, context):\n    return 1\n")
        busy = cloud.function("import time\n\ndef handler(event, context):\n    time.sleep(60)\n", Timeout=120)
        cloud.invoke(idle)
        cloud.lam.invoke(FunctionName=busy, InvocationType="Event", Payload=b"{}")
        deadline = time.monotonic() + 10
        while len(runtime.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = runtime.worker_pids()
        assert len(pids) == 2

    # Killed and reaped: not even a zombie is left.
    assert [pid for pid in pids if psutil.pid_exists(pid)] == []
