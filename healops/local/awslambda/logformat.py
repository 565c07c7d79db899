"""The log lines and error payloads the Lambda service itself produces, in AWS's shapes."""

from __future__ import annotations

import base64
import math
import secrets
from datetime import UTC, datetime
from typing import Any

LOG_TAIL_BYTES = 4096


def log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def log_stream_name(version: str, now: datetime | None = None, suffix: str | None = None) -> str:
    """One stream per execution environment: ``YYYY/MM/DD/[$LATEST]<32 hex>``."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{suffix or secrets.token_hex(16)}"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_size_mb: int,
    max_memory_used_mb: int,
    init_duration_ms: float | None = None,
    status: str | None = None,
) -> str:
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {max(math.ceil(duration_ms), 1)} ms",
        f"Memory Size: {memory_size_mb} MB",
        f"Max Memory Used: {max_memory_used_mb} MB",
    ]
    if init_duration_ms:
        parts.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status:
        parts.append(f"Status: {status}")
    return "\t".join(parts) + "\t"


def timeout_payload(request_id: str, timeout_seconds: float) -> dict[str, Any]:
    """What a synchronous invoke returns when the function runs past its Timeout."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds",
    }


def timeout_log_line(request_id: str, timeout_seconds: float, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{stamp} {request_id} Task timed out after {timeout_seconds:.2f} seconds"


def exit_error_payload(request_id: str, detail: str) -> dict[str, Any]:
    """What AWS returns when the runtime process dies during an invocation."""
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {detail}",
    }


def log_result_header(lines: list[str]) -> str:
    """``x-amz-log-result``: the base64 of the last 4 KB of the invocation's log."""
    text = ("\n".join(lines) + "\n").encode()
    return base64.b64encode(text[-LOG_TAIL_BYTES:]).decode()
