"""The Lambda worker process: runs one function's handler, invocation after invocation.

Started by :mod:`healops.local.awslambda.workers` as
``python -I -S worker.py --code-dir D --runtime-dir R --request-fd N --response-fd M``.
``-I -S`` keep the host's virtual environment off ``sys.path``; this script builds the path
itself (the function's code, then the runtime's libraries, then the standard library), so a
handler sees what it would see on AWS. It therefore imports nothing but the standard
library: a zip that vendors its own ``healops`` must get that one, never ours.

Protocol: requests and responses are frames on two dedicated pipes (see :func:`write_frame`).
Everything the handler prints or logs goes to stdout/stderr, which the parent reads as the
invocation's log; after each invocation the worker writes :data:`END_MARKER` plus the
request id on its own line, flushes, and only then sends the response. The first request also
loads the handler (the init phase): once loaded, the worker writes :data:`INIT_MARKER` plus the
request id, and the function's timeout runs from there, as on AWS, where init has its own limit
and a cold start does not eat into the handler's time.
"""

from __future__ import annotations

import argparse
import decimal
import importlib
import json
import logging
import os
import resource
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

END_MARKER = "\x1ehealops-lambda-end "
INIT_MARKER = "\x1ehealops-lambda-init "
_FRAME_HEADER = struct.Struct("!II")


def write_frame(fd: int, header: dict[str, Any], body: bytes) -> None:
    """One frame: two lengths, a JSON header, then the raw body (event or result payload)."""
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    data = _FRAME_HEADER.pack(len(header_bytes), len(body)) + header_bytes + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = os.read(fd, remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> tuple[dict[str, Any], bytes] | None:
    """The next frame on ``fd``; None when the other side closed the pipe."""
    lengths = _read_exact(fd, _FRAME_HEADER.size)
    if lengths is None:
        return None
    header_len, body_len = _FRAME_HEADER.unpack(lengths)
    header = _read_exact(fd, header_len) if header_len else b"{}"
    body = _read_exact(fd, body_len) if body_len else b""
    if header is None or body is None:
        return None
    return json.loads(header), body


class LambdaContext:
    """The ``context`` argument, with the attributes the AWS Python runtime gives it."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string on AWS too (the runtime copies the environment variable).
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = None
        self.identity = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        sys.stdout.write(message)
        sys.stdout.flush()


class FaultError(Exception):
    """A runtime-level failure (bad handler, import error, unserialisable result)."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


def load_handler(handler: str) -> Callable[..., Any]:
    """The handler function named by ``module.function``, with the AWS runtime's errors."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from exc
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise FaultError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'],
        ) from exc
    function = getattr(module, function_name, None)
    if function is None:
        raise FaultError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


class _ResultEncoder(json.JSONEncoder):
    # The AWS runtime's marshaller turns Decimal (what DynamoDB returns) into numbers.
    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


def marshal_result(result: Any) -> bytes:
    try:
        return json.dumps(result, cls=_ResultEncoder).encode()
    except (TypeError, ValueError, OverflowError) as exc:
        raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc


def error_payload(error_type: str, message: str, request_id: str, stack: list[str]) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}


def _log_error(payload: dict[str, Any]) -> None:
    # The AWS runtime writes the error to the log as one block, this shape.
    lines = [f"[ERROR] {payload['errorType']}: {payload['errorMessage']}"]
    if payload["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in payload["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")


class _RequestIdFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _install_root_log_handler() -> _RequestIdFilter:
    """What the AWS runtime puts on the root logger: tab-separated level, time, request id."""
    request_filter = _RequestIdFilter()
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


def _exit_when_orphaned(parent_pid: int) -> None:
    # The request pipe closing ends an idle worker; this ends a busy one whose parent died.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(1)


def _user_frames(tb: Any) -> list[str]:
    frames = traceback.extract_tb(tb)
    # Drop this file's frames, as the AWS runtime drops its bootstrap's.
    kept = [frame for frame in frames if frame.filename != __file__]
    return traceback.format_list(kept)


class Worker:
    def __init__(self, handler_name: str, request_fd: int, response_fd: int) -> None:
        self.handler_name = handler_name
        self.request_fd = request_fd
        self.response_fd = response_fd
        self.handler: Callable[..., Any] | None = None
        self.request_filter = _install_root_log_handler()

    def _run(self, header: dict[str, Any], body: bytes) -> tuple[bytes, dict[str, Any] | None, float]:
        """(payload, error payload or None, init milliseconds if the handler was loaded now)."""
        request_id = header["request_id"]
        init_ms = 0.0
        try:
            deadline_ms = header["deadline_ms"]
            if self.handler is None:
                started = time.perf_counter()
                self.handler = load_handler(self.handler_name)
                init_ms = (time.perf_counter() - started) * 1000
                # The handler's time starts now: the parent moves its deadline when it reads this.
                if header.get("timeout_ms"):
                    deadline_ms = int(time.time() * 1000) + int(header["timeout_ms"])
                sys.stdout.write(f"{INIT_MARKER}{request_id}\n")
                sys.stdout.flush()
            event = json.loads(body) if body else {}
            context = LambdaContext(request_id, deadline_ms, header["invoked_function_arn"])
            return marshal_result(self.handler(event, context)), None, init_ms
        except FaultError as fault:
            # Init faults carry no request id on AWS; the others do.
            rid = "" if fault.error_type.endswith(("ImportModuleError", "HandlerName", "SyntaxError")) else request_id
            error = error_payload(fault.error_type, fault.message, rid, fault.stack)
        except Exception as exc:
            error = error_payload(type(exc).__name__, str(exc), request_id, _user_frames(exc.__traceback__))
        _log_error(error)
        return json.dumps(error).encode(), error, init_ms

    def serve(self) -> None:
        while True:
            frame = read_frame(self.request_fd)
            if frame is None:
                return
            header, body = frame
            self.request_filter.request_id = header["request_id"]
            payload, error, init_ms = self._run(header, body)
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout.write(f"{END_MARKER}{header['request_id']}\n")
            sys.stdout.flush()
            reply = {
                "request_id": header["request_id"],
                "error_type": error["errorType"] if error else None,
                "init_ms": init_ms,
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
            write_frame(self.response_fd, reply, payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code-dir", required=True)
    parser.add_argument("--runtime-dir", required=True)
    parser.add_argument("--request-fd", type=int, required=True)
    parser.add_argument("--response-fd", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    # AWS: /var/task first, then the runtime's libraries, then the standard library.
    sys.path[:0] = [args.code_dir, args.runtime_dir]
    os.chdir(args.code_dir)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    threading.Thread(target=_exit_when_orphaned, args=(args.parent_pid,), daemon=True).start()
    Worker(os.environ["_HANDLER"], args.request_fd, args.response_fd).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
