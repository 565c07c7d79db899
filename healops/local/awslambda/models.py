"""The Lambda runtime extension: moto's functions run in warm worker processes."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healops.local import routes
from healops.local.awslambda import logformat
from healops.local.awslambda.packaging import ensure_code_dir, ensure_runtime_dir
from healops.local.awslambda.workers import FunctionWorkers, WorkerOutcome, WorkerProcess, WorkerSpec

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction

    from healops.local.context import EmbeddedContext

logger = logging.getLogger(__name__)

INVOCATIONS_ROUTE = "/_healops/lambda/invocations"
DEFAULT_WORKERS_PER_FUNCTION = 2
ASYNC_INVOKE_THREADS = 4

# The runtimes of the embedded clouds running in this process, latest last; patched moto
# functions follow the latest, and stopping one cloud falls back to the one still running.
_running: list[LambdaRuntime] = []
_installed = False
_originals: dict[str, Any] = {}


@dataclass
class InvocationResult:
    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, as AWS says it
    error_type: str | None
    status: str
    log_lines: list[str]
    duration_ms: float


def spec_for(fn: LambdaFunction) -> WorkerSpec:
    """The worker spec of moto's function object as it is now."""
    return WorkerSpec(
        account_id=fn.account_id,
        region=fn.region,
        function_name=fn.function_name,
        version=str(fn.version),
        function_arn=fn.function_arn,
        handler=fn.handler or "",
        runtime=fn.run_time or "",
        timeout_seconds=float(fn.timeout or 3),
        memory_size_mb=int(fn.memory_size or 128),
        code_sha256=getattr(fn, "code_sha_256", "") or "",
        environment=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
    )


def event_bytes(body: Any) -> bytes:
    """The invocation payload as JSON bytes; an empty payload is ``{}``, as on AWS.

    Raises ValueError naming the problem when the payload is not JSON.
    """
    if body is None or body in ("", b""):
        return b"{}"
    if isinstance(body, str | bytes | bytearray):
        raw = bytes(body, "utf-8") if isinstance(body, str) else bytes(body)
        json.loads(raw)
        return raw
    return json.dumps(body).encode()


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _unsupported(fn: LambdaFunction) -> str | None:
    if getattr(fn, "package_type", "Zip") != "Zip":
        return "the embedded Lambda runtime runs zip packages only, not container images"
    if not (fn.run_time or "").startswith("python3"):
        return f"the embedded Lambda runtime runs python3.x functions only, not {fn.run_time!r}"
    return None


class LambdaRuntime:
    """Runs each function's handler in warm worker processes (see the package docstring)."""

    name = "lambda"

    def __init__(self, workers_per_function: int = DEFAULT_WORKERS_PER_FUNCTION) -> None:
        if workers_per_function < 1:
            raise ValueError(f"workers_per_function must be at least 1, got {workers_per_function}")
        self.workers_per_function = workers_per_function
        self._ctx: EmbeddedContext | None = None
        self._root: Path | None = None
        self._runtime_dir: Path | None = None
        self._pools: dict[tuple[str, str, str, str], FunctionWorkers] = {}
        self._workers: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._last: dict[str, dict[str, Any]] = {}
        self._async: ThreadPoolExecutor | None = None
        self._stopping = False

    # -- Extension ---------------------------------------------------------------------------

    def install(self, ctx: EmbeddedContext) -> None:
        self._ctx = ctx
        self._root = ctx.state_dir.resolve() / "lambda"
        self._runtime_dir = ensure_runtime_dir(self._root)
        self._async = ThreadPoolExecutor(ASYNC_INVOKE_THREADS, thread_name_prefix="lambda-event")
        _running.append(self)
        _install_patches()
        routes.register_route(INVOCATIONS_ROUTE, lambda _request: routes.json_response(last_invocations()))

    def start(self, ctx: EmbeddedContext) -> None:
        return None

    def stop(self) -> None:
        self._stopping = True
        if self in _running:
            _running.remove(self)
        if self._async is not None:
            self._async.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pools = list(self._pools.values())
            workers = list(self._workers)
        idle: list[WorkerProcess] = []
        for pool in pools:
            idle.extend(pool.close())
        for worker in idle:
            worker.kill()
        busy = [w for w in workers if w.alive and w not in idle]
        for worker in busy:
            worker.signal_kill()
        for worker in busy:
            try:
                worker.process.wait(timeout=5)
            except Exception:
                logger.error("lambda worker %s did not exit", worker.pid)

    # -- Invocation --------------------------------------------------------------------------

    def handle_invoke(
        self, fn: LambdaFunction, body: Any, request_headers: Any, response_headers: dict[str, Any]
    ) -> bytes:
        """moto's ``LambdaFunction.invoke``: the three invocation types and the response headers."""
        from moto.awslambda.exceptions import LambdaClientError

        invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
        try:
            event = event_bytes(body)
        except ValueError as exc:
            raise LambdaClientError(
                "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
            ) from exc
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            self.invoke_async(fn, event)
            return b""
        if invocation_type != "RequestResponse":
            raise LambdaClientError(
                "InvalidParameterValueException",
                f"InvocationType {invocation_type!r} is not one of RequestResponse, Event, DryRun",
            )
        result = self.invoke(fn, event)
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        response_headers["x-amz-log-result"] = logformat.log_result_header(result.log_lines)
        response_headers["x-amz-executed-version"] = str(fn.version)
        return result.payload

    def invoke_async(self, fn: LambdaFunction, event: bytes) -> None:
        """Queue an ``Event`` invocation; the caller does not wait for it."""
        if self._async is None or self._stopping:
            raise RuntimeError("the embedded Lambda runtime is not running")
        self._async.submit(self._run_async, fn, event)

    def _run_async(self, fn: LambdaFunction, event: bytes) -> None:
        try:
            result = self.invoke(fn, event)
            if result.function_error:
                logger.info("async invoke of %s failed: %s", fn.function_name, result.error_type)
        except Exception:
            logger.exception("async invoke of %s failed", fn.function_name)

    def invoke(self, fn: LambdaFunction, event: bytes) -> InvocationResult:
        """One synchronous invocation on a warm worker of ``fn``."""
        spec = spec_for(fn)
        request_id = str(uuid.uuid4())
        unsupported = _unsupported(fn)
        if unsupported:
            payload = {"errorType": "Runtime.InvalidRuntime", "errorMessage": unsupported}
            outcome = WorkerOutcome("error", json.dumps(payload).encode(), payload["errorType"], [])
            return self._finish(fn, spec, None, request_id, outcome, time.perf_counter(), 0.0)
        pool = self._pool_for(spec)
        acquire_started = time.perf_counter()
        worker = pool.acquire(spec, lambda s: self._spawn(fn, s))
        spawn_ms = (time.perf_counter() - acquire_started) * 1000 if worker.invocations == 0 else 0.0
        started = time.perf_counter()
        try:
            outcome = worker.invoke(request_id, event, fn.function_arn)
        finally:
            pool.release(worker, spec_for(fn))
            if not worker.alive:
                with self._lock:
                    self._workers.discard(worker)
        init_ms = spawn_ms + outcome.init_ms if spawn_ms else 0.0
        return self._finish(fn, spec, worker, request_id, outcome, started, init_ms)

    def _finish(
        self,
        fn: LambdaFunction,
        spec: WorkerSpec,
        worker: WorkerProcess | None,
        request_id: str,
        outcome: WorkerOutcome,
        started: float,
        init_ms: float,
    ) -> InvocationResult:
        # The handler's import on a fresh worker is Init Duration on AWS, not Duration.
        duration_ms = max((time.perf_counter() - started) * 1000 - outcome.init_ms, 0.0)
        status_word = {"timeout": "timeout", "exited": "error"}.get(outcome.status)
        lines = [
            logformat.start_line(request_id, spec.version),
            *outcome.log_lines,
            logformat.end_line(request_id),
            logformat.report_line(
                request_id, duration_ms, spec.memory_size_mb, outcome.max_memory_used_mb, init_ms, status_word
            ),
        ]
        if worker is not None:
            self._write_logs(fn, worker, lines)
        self._record(fn, request_id, outcome, duration_ms)
        return InvocationResult(
            request_id=request_id,
            payload=outcome.payload,
            function_error=None if outcome.status == "ok" else "Unhandled",
            error_type=outcome.error_type,
            status=outcome.status,
            log_lines=lines,
            duration_ms=duration_ms,
        )

    # -- Workers -----------------------------------------------------------------------------

    def _pool_for(self, spec: WorkerSpec) -> FunctionWorkers:
        key = (spec.account_id, spec.region, spec.function_name, spec.version)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = FunctionWorkers(self.workers_per_function)
            return pool

    def _spawn(self, fn: LambdaFunction, spec: WorkerSpec) -> WorkerProcess:
        if self._stopping or self._ctx is None or self._root is None or self._runtime_dir is None:
            raise RuntimeError("the embedded Lambda runtime is not running")
        code_dir = ensure_code_dir(
            self._root, spec.function_name, spec.code_sha256, getattr(fn, "code_bytes", b"") or b""
        )
        worker = WorkerProcess(spec, code_dir, self._runtime_dir, self._ctx.endpoint_url)
        logger.debug("spawned lambda worker %s for %s", worker.pid, spec.function_name)
        with self._lock:
            self._workers = {w for w in self._workers if w.alive}
            self._workers.add(worker)
        return worker

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers if w.alive]

    # -- Logs and records --------------------------------------------------------------------

    def _write_logs(self, fn: LambdaFunction, worker: WorkerProcess, lines: list[str]) -> None:
        try:
            from moto.logs.models import logs_backends

            backend = logs_backends[fn.account_id][fn.region]
            group = logformat.log_group_name(fn.function_name)
            backend.ensure_log_group(group)
            if not worker.log_stream_created:
                backend.ensure_log_stream(group, worker.log_stream)
                worker.log_stream_created = True
            now_ms = int(time.time() * 1000)
            backend.put_log_events(group, worker.log_stream, [{"timestamp": now_ms, "message": ln} for ln in lines])
        except Exception:
            logger.exception("writing the logs of %s failed", fn.function_name)

    def _record(self, fn: LambdaFunction, request_id: str, outcome: WorkerOutcome, duration_ms: float) -> None:
        with self._lock:
            previous = self._last.get(fn.function_name, {})
            self._last[fn.function_name] = {
                "function_name": fn.function_name,
                "function_arn": fn.function_arn,
                "last_invoked_at": datetime.now(UTC).isoformat(),
                "last_request_id": request_id,
                "last_outcome": {"ok": "success"}.get(outcome.status, outcome.status),
                "last_error_type": outcome.error_type,
                "last_duration_ms": round(duration_ms, 3),
                "invocations": previous.get("invocations", 0) + 1,
                "errors": previous.get("errors", 0) + (outcome.status != "ok"),
            }

    def last_invocations(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: dict(record) for name, record in self._last.items()}


def _active() -> LambdaRuntime | None:
    return _running[-1] if _running else None


def last_invocations() -> dict[str, dict[str, Any]]:
    """Per function name: when it last ran, how it ended, and counts (of the running runtime)."""
    runtime = _active()
    return runtime.last_invocations() if runtime is not None else {}


# -- Patches of moto ---------------------------------------------------------------------------


def _function_invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> Any:
    runtime = _active()
    if runtime is None:
        return _originals["LambdaFunction.invoke"](self, body, request_headers, response_headers)
    return runtime.handle_invoke(self, body, request_headers, response_headers)


def _function_invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    runtime = _active()
    if runtime is None:
        return "the embedded Lambda runtime is not running", True, ""
    result = runtime.invoke(self, event_bytes(event))
    return result.payload.decode(errors="replace"), result.function_error is not None, "\n".join(result.log_lines)


def _simple_backend_invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> Any:
    # With use_docker off, moto serves Lambda from LambdaSimpleBackend, whose invoke echoes
    # the payload; the real backend's invoke reaches the function (and so this runtime).
    if _active() is None:
        return _originals["LambdaSimpleBackend.invoke"](self, function_name, qualifier, body, headers, response_headers)
    from moto.awslambda.models import LambdaBackend

    return LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)


def _install_patches() -> None:
    global _installed
    if _installed:
        return
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    _originals["LambdaFunction.invoke"] = LambdaFunction.invoke
    _originals["LambdaFunction._invoke_lambda"] = LambdaFunction._invoke_lambda
    _originals["LambdaSimpleBackend.invoke"] = LambdaSimpleBackend.invoke
    LambdaFunction.invoke = _function_invoke  # type: ignore[method-assign,assignment]
    LambdaFunction._invoke_lambda = _function_invoke_lambda  # type: ignore[method-assign]
    LambdaSimpleBackend.invoke = _simple_backend_invoke  # type: ignore[method-assign]
    _installed = True
