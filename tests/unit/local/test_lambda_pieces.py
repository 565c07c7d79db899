"""Pure pieces of the embedded Lambda runtime: log shapes, frames, handler loading, environment."""

from __future__ import annotations

import base64
import decimal
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from healops.local.awslambda import logformat
from healops.local.awslambda.models import event_bytes
from healops.local.awslambda.packaging import code_dir_name, ensure_code_dir
from healops.local.awslambda.worker import FaultError, load_handler, marshal_result, read_frame, write_frame
from healops.local.awslambda.workers import WorkerSpec, build_environment


def test_log_stream_name_has_the_aws_shape() -> None:
    name = logformat.log_stream_name("$LATEST", now=datetime(2025, 3, 7, tzinfo=UTC))

    assert re.fullmatch(r"2025/03/07/\[\$LATEST\][0-9a-f]{32}", name)
    assert logformat.log_stream_name("$LATEST") != logformat.log_stream_name("$LATEST")


def test_report_line_bills_whole_milliseconds_and_shows_init_only_on_cold_start() -> None:
    warm = logformat.report_line("rid", 1.234, 128, 40)
    cold = logformat.report_line("rid", 10.5, 256, 60, init_duration_ms=250.0)

    assert (
        warm == "REPORT RequestId: rid\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\t"
    )
    assert "Init Duration: 250.00 ms" in cold
    assert "Init Duration" not in warm


def test_timeout_payload_matches_aws() -> None:
    assert logformat.timeout_payload("abc", 3) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: abc Error: Task timed out after 3.00 seconds",
    }


def test_log_result_keeps_the_last_4_kb() -> None:
    lines = [f"line {i:05d} " + "x" * 90 for i in range(200)]

    tail = base64.b64decode(logformat.log_result_header(lines))

    assert len(tail) == logformat.LOG_TAIL_BYTES
    assert tail.endswith((lines[-1] + "\n").encode())


def test_frames_round_trip_over_a_pipe() -> None:
    read_fd, write_fd = os.pipe()
    try:
        write_frame(write_fd, {"request_id": "r1"}, b'{"a": 1}')
        write_frame(write_fd, {"request_id": "r2"}, b"")
        os.close(write_fd)
        write_fd = -1

        assert read_frame(read_fd) == ({"request_id": "r1"}, b'{"a": 1}')
        assert read_frame(read_fd) == ({"request_id": "r2"}, b"")
        assert read_frame(read_fd) is None
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


@pytest.fixture
def code_on_path(tmp_path: Path) -> Path:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("lambdaunit_")]:
        del sys.modules[name]


def test_load_handler_reports_the_aws_runtime_errors(code_on_path: Path) -> None:
    (code_on_path / "lambdaunit_ok.py").write_text("def handler(e, c):\n    return 1\n")
    (code_on_path / "lambdaunit_syntax.py").write_text("def handler(:\n")

    assert load_handler("lambdaunit_ok.handler")({}, None) == 1
    cases = {
        "nodot": "Runtime.MalformedHandlerName",
        "lambdaunit_missing.handler": "Runtime.ImportModuleError",
        "lambdaunit_ok.absent": "Runtime.HandlerNotFound",
        "lambdaunit_syntax.handler": "Runtime.UserCodeSyntaxError",
    }
    for handler, error_type in cases.items():
        with pytest.raises(FaultError) as caught:
            load_handler(handler)
        assert caught.value.error_type == error_type, handler
    with pytest.raises(FaultError, match="Unable to import module 'lambdaunit_missing': No module named"):
        load_handler("lambdaunit_missing.handler")


def test_marshal_result_handles_decimal_and_refuses_sets() -> None:
    assert json.loads(marshal_result({"n": decimal.Decimal("2"), "f": decimal.Decimal("1.5")})) == {"n": 2, "f": 1.5}
    assert marshal_result(None) == b"null"
    with pytest.raises(FaultError) as caught:
        marshal_result({1, 2})
    assert caught.value.error_type == "Runtime.MarshalError"


def test_event_bytes_defaults_to_an_empty_object_and_rejects_non_json() -> None:
    assert event_bytes("") == b"{}"
    assert event_bytes(None) == b"{}"
    assert event_bytes({"a": 1}) == b'{"a": 1}'
    assert event_bytes('{"a": 1}') == b'{"a": 1}'
    with pytest.raises(ValueError):
        event_bytes("not json")


def test_environment_is_the_function_variables_plus_what_lambda_sets_and_nothing_else(tmp_path: Path) -> None:
    spec = WorkerSpec(
        account_id="123456789012",
        region="eu-west-1",
        function_name="detector",
        version="$LATEST",
        function_arn="arn:aws:lambda:eu-west-1:123456789012:function:detector",
        handler="app.handler",
        runtime="python3.11",
        timeout_seconds=3,
        memory_size_mb=256,
        code_sha256="abc",
        environment=(("TABLE", "incidents"),),
    )

    env = build_environment(spec, "http://127.0.0.1:4566", "2025/01/01/[$LATEST]ff", tmp_path, tmp_path)

    assert env["TABLE"] == "incidents"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "detector"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/detector"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == "2025/01/01/[$LATEST]ff"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "app.handler"
    assert "VIRTUAL_ENV" not in env and "PYTHONPATH" not in env and "HOME" not in env


def test_code_dir_is_path_safe_and_unpacked_once(tmp_path: Path) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "X = 1\n")
    sha = "ab/cd+ef=="

    first = ensure_code_dir(tmp_path, "fn", sha, buffer.getvalue())
    (first / "marker").write_text("kept")
    second = ensure_code_dir(tmp_path, "fn", sha, buffer.getvalue())

    assert code_dir_name(sha) == "ab_cd-ef"
    assert first == second == tmp_path / "fn" / "ab_cd-ef"
    assert (second / "app.py").read_text() == "X = 1\n"
    assert (second / "marker").exists()
