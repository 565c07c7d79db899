"""Worker processes, seen from the server: spawn, invoke with a deadline, kill; a pool per function."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healops.local.awslambda import logformat
from healops.local.awslambda.worker import END_MARKER, INIT_MARKER, read_frame, write_frame

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
_END_MARKER_BYTES = END_MARKER.encode()
_INIT_MARKER_BYTES = INIT_MARKER.encode()
# How long a new worker may take to load its handler before the function's timeout starts
# (AWS gives the init phase 10 s of its own).
INIT_LIMIT_SECONDS = 10.0
# After the response arrives, how long to wait for the end marker on stdout (it is written first,
# so it is normally already in the pipe).
_MARKER_GRACE_SECONDS = 2.0
_READ_CHUNK = 65536


@dataclass(frozen=True)
class WorkerSpec:
    """Everything that, when it changes, needs a fresh worker."""

    account_id: str
    region: str
    function_name: str
    version: str
    function_arn: str
    handler: str
    runtime: str
    timeout_seconds: float
    memory_size_mb: int
    code_sha256: str
    environment: tuple[tuple[str, str], ...]


def build_environment(
    spec: WorkerSpec, endpoint_url: str, log_stream: str, code_dir: Path, runtime_dir: Path
) -> dict[str, str]:
    """The worker's whole environment: the function's variables plus what the Lambda service sets.

    Nothing is inherited from the server's environment but PATH.
    """
    env = dict(spec.environment)
    env.update(
        {
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": logformat.log_group_name(spec.function_name),
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "AWS_ENDPOINT_URL": endpoint_url,
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        }
    )
    return env


@dataclass
class WorkerOutcome:
    """What one invocation on a worker produced."""

    status: str  # "ok", "error" (handler or runtime fault), "timeout", "exited"
    payload: bytes
    error_type: str | None
    log_lines: list[str]
    init_ms: float = 0.0
    max_memory_used_mb: int = 0


@dataclass
class _Collected:
    lines: list[str] = field(default_factory=list)
    marker_seen: bool = False
    init_seen: bool = False


class WorkerProcess:
    """One warm worker: a child Python running one function's handler."""

    def __init__(self, spec: WorkerSpec, code_dir: Path, runtime_dir: Path, endpoint_url: str) -> None:
        self.spec = spec
        self.log_stream = logformat.log_stream_name(spec.version)
        self.log_stream_created = False
        self.invocations = 0
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    str(WORKER_SCRIPT),
                    "--code-dir",
                    str(code_dir),
                    "--runtime-dir",
                    str(runtime_dir),
                    "--request-fd",
                    str(request_read),
                    "--response-fd",
                    str(response_write),
                    "--parent-pid",
                    str(os.getpid()),
                ],
                env=build_environment(spec, endpoint_url, self.log_stream, code_dir, runtime_dir),
                cwd=code_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(request_read, response_write),
                # Its own session: a Ctrl-C at the server's terminal is the server's to handle.
                start_new_session=True,
            )
        except BaseException:
            for fd in (request_read, request_write, response_read, response_write):
                os.close(fd)
            raise
        os.close(request_read)
        os.close(response_write)
        self._request_fd = request_write
        self._response_fd = response_read
        assert self.process.stdout is not None
        self._output = self.process.stdout
        self._output_fd = self._output.fileno()
        self._pending_output = bytearray()
        self.alive = True
        self.initialised = False  # the handler is loaded (the worker's first invocation did it)

    @property
    def pid(self) -> int:
        return self.process.pid

    def invoke(self, request_id: str, event: bytes, invoked_function_arn: str) -> WorkerOutcome:
        """Run one invocation; kills the worker if it exceeds the function's timeout."""
        timeout = self.spec.timeout_seconds
        # A new worker loads its handler first, within the init limit; the timeout starts after.
        initialising = not self.initialised
        deadline = time.monotonic() + (INIT_LIMIT_SECONDS if initialising else timeout)
        header = {
            "request_id": request_id,
            "deadline_ms": int((time.time() + timeout) * 1000),
            "timeout_ms": int(timeout * 1000),
            "invoked_function_arn": invoked_function_arn,
        }
        self.invocations += 1
        collected = _Collected()
        try:
            write_frame(self._request_fd, header, event)
        except OSError:
            return self._exited(request_id, collected)
        reply: tuple[dict[str, Any], bytes] | None = None
        marker_deadline: float | None = None
        while reply is None or not collected.marker_seen:
            now = time.monotonic()
            if reply is None and now >= deadline:
                return self._timed_out(request_id, collected, INIT_LIMIT_SECONDS if initialising else timeout)
            if reply is not None:
                marker_deadline = marker_deadline or now + _MARKER_GRACE_SECONDS
                if now >= marker_deadline:
                    logger.warning("%s: no end-of-invocation marker; log may be incomplete", request_id)
                    break
            wait_for = [self._output_fd] if not collected.marker_seen else []
            if reply is None:
                wait_for.append(self._response_fd)
            wake_at = deadline if reply is None else (marker_deadline or deadline)
            ready, _, _ = select.select(wait_for, [], [], max(wake_at - now, 0))
            if self._output_fd in ready and not self._read_output(request_id, collected):
                return self._exited(request_id, collected)
            if initialising and collected.init_seen:
                initialising, self.initialised = False, True
                deadline = time.monotonic() + timeout
            if self._response_fd in ready:
                reply = read_frame(self._response_fd)
                if reply is None:
                    return self._exited(request_id, collected)
        reply_header, payload = reply
        error_type = reply_header.get("error_type")
        return WorkerOutcome(
            status="error" if error_type else "ok",
            payload=payload,
            error_type=error_type,
            log_lines=collected.lines,
            init_ms=float(reply_header.get("init_ms") or 0.0),
            max_memory_used_mb=int(reply_header.get("max_rss_kb") or 0) // 1024,
        )

    def _read_output(self, request_id: str, collected: _Collected) -> bool:
        """Read what stdout has; False at end of file (the worker is gone)."""
        chunk = os.read(self._output_fd, _READ_CHUNK)
        if not chunk:
            return False
        self._pending_output += chunk
        marker = _END_MARKER_BYTES + request_id.encode()
        init_marker = _INIT_MARKER_BYTES + request_id.encode()
        while True:
            newline = self._pending_output.find(b"\n")
            if newline < 0:
                break
            line = bytes(self._pending_output[:newline])
            del self._pending_output[: newline + 1]
            at = line.find(init_marker)
            if at >= 0:
                if at > 0:  # an unterminated print of the module's import shares the line
                    collected.lines.append(line[:at].decode(errors="replace"))
                collected.init_seen = True
                continue
            at = line.find(marker)
            if at >= 0:
                # A handler's unterminated last print shares the marker's line.
                if at > 0:
                    collected.lines.append(line[:at].decode(errors="replace"))
                collected.marker_seen = True
                break
            collected.lines.append(line.decode(errors="replace"))
        return True

    def _drain_output(self, collected: _Collected) -> None:
        # What the worker wrote before it died belongs to this invocation's log.
        try:
            while select.select([self._output_fd], [], [], 0)[0]:
                chunk = os.read(self._output_fd, _READ_CHUNK)
                if not chunk:
                    break
                self._pending_output += chunk
        except OSError:
            pass
        text = self._pending_output.decode(errors="replace")
        self._pending_output.clear()
        collected.lines.extend(line for line in text.splitlines() if not line.startswith((END_MARKER, INIT_MARKER)))

    def _timed_out(self, request_id: str, collected: _Collected, seconds: float) -> WorkerOutcome:
        self.kill()
        self._drain_output(collected)
        payload = logformat.timeout_payload(request_id, seconds)
        collected.lines.append(logformat.timeout_log_line(request_id, seconds))
        return WorkerOutcome("timeout", json.dumps(payload).encode(), payload["errorType"], collected.lines)

    def _exited(self, request_id: str, collected: _Collected) -> WorkerOutcome:
        try:
            code = self.process.wait(timeout=2)
            detail = f"exit status {code}" if code >= 0 else f"signal: {-code}"
        except subprocess.TimeoutExpired:
            detail = "the runtime closed its pipes"
        self.kill()
        self._drain_output(collected)
        payload = logformat.exit_error_payload(request_id, detail)
        collected.lines.append(f"{payload['errorType']}: {payload['errorMessage']}")
        return WorkerOutcome("exited", json.dumps(payload).encode(), payload["errorType"], collected.lines)

    def signal_kill(self) -> None:
        """SIGKILL only, from another thread: the invoking thread sees end of file and cleans up."""
        with contextlib.suppress(OSError):
            self.process.kill()

    def kill(self) -> None:
        """Kill the process and release its pipes; safe to call twice. Only the owner calls it."""
        if not self.alive:
            return
        self.alive = False
        with contextlib.suppress(OSError):
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            logger.error("lambda worker %s did not exit after SIGKILL", self.process.pid)
        for fd in (self._request_fd, self._response_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._output.close()


class FunctionWorkers:
    """The warm workers of one function version: at most ``max_workers``, reused while idle.

    An invocation takes an idle worker whose spec matches, else spawns one while under the cap,
    else waits. Workers whose spec went stale (code or configuration changed) are killed.
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._idle: list[WorkerProcess] = []
        self._busy = 0
        self._closed = False
        self._cond = threading.Condition()

    def acquire(self, spec: WorkerSpec, spawn: Callable[[WorkerSpec], WorkerProcess]) -> WorkerProcess:
        stale: list[WorkerProcess] = []
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the Lambda runtime is stopping")
                stale.extend(w for w in self._idle if w.spec != spec or not w.alive)
                self._idle = [w for w in self._idle if w.spec == spec and w.alive]
                if self._idle:
                    worker = self._idle.pop()
                    self._busy += 1
                    break
                if self._busy + len(self._idle) < self.max_workers:
                    worker = None
                    self._busy += 1
                    break
                self._cond.wait()
        for old in stale:
            old.kill()
        if worker is not None:
            return worker
        try:
            return spawn(spec)
        except BaseException:
            self.release(None)
            raise

    def release(self, worker: WorkerProcess | None, current_spec: WorkerSpec | None = None) -> None:
        """Give a worker back; a dead or stale one is dropped (killed)."""
        drop = worker is not None and (not worker.alive or self._closed or worker.spec != current_spec)
        with self._cond:
            self._busy -= 1
            if worker is not None and not drop:
                self._idle.append(worker)
            self._cond.notify()
        if drop and worker is not None:
            worker.kill()

    def close(self) -> list[WorkerProcess]:
        """Refuse new work; return the idle workers (busy ones are killed by whoever holds them)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        return idle
