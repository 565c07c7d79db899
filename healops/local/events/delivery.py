"""Deliver one firing of a rule to its targets, in process, off the caller's thread.

Target kinds and how each is reached (all through moto's backends, in process):

- Lambda function (``arn:...:lambda:...:function:name[:qualifier]``): moto's Lambda backend
  ``invoke`` with InvocationType ``Event`` (so through :mod:`healops.local.awslambda` when
  that runtime is installed). The caller never waits. A function that runs and returns an
  error counts as delivered, as on AWS (Lambda, not EventBridge, owns asynchronous
  function-error retries); the record's ``detail`` says so.
- Step Functions state machine: ``StartExecution`` on moto's parser backend (the one that
  runs executions) with a fresh uuid name, the target input as execution input.
- SQS queue: ``SendMessage`` with the target input as body; FIFO queues take
  ``SqsParameters.MessageGroupId`` and the event id as deduplication id.
- CloudWatch Logs log group: one log stream per event, the target input as its message.
- EventBridge archives, event buses and API destinations: moto's own code (``moto_send``).

Any other kind is recorded as failed ("unsupported target type").

Failures are logged and retried with backoff (``RETRY_DELAYS``, at most two retries, fewer
if the target's ``RetryPolicy.MaximumRetryAttempts`` says so), except errors that retrying
cannot fix (resource not found, invalid input), which EventBridge does not retry either.
An event that is still undelivered goes to the target's ``DeadLetterConfig`` SQS queue with
EventBridge's message attributes (``ERROR_CODE``, ``ERROR_MESSAGE``, ``RULE_ARN``,
``TARGET_ARN``, ``RETRY_ATTEMPTS``). Nothing here raises into the caller.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from healops.local.events.models import FiringLog, FiringRecord, TargetOutcome, Trigger
from healops.local.events.payload import event_time_iso, render_target_input

logger = logging.getLogger(__name__)

# Real seconds between attempts; EventBridge backs off exponentially for up to 24 h and 185
# tries, which a local endpoint has no use for: two quick retries show the behaviour.
RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5)
DEFAULT_MAX_WORKERS = 4
# Deliveries waiting for a worker beyond this are dropped (and recorded) instead of queued:
# a runaway schedule must not grow the server's memory without bound.
DEFAULT_MAX_PENDING = 10_000

# Error class names that say a retry cannot succeed.
_PERMANENT_ERROR_MARKERS = ("NotFound", "DoesNotExist", "Unknown", "Invalid", "Validation", "Unsupported")

MotoSend = Callable[[Any, list[dict[str, Any]], dict[str, Any]], None]


class UnsupportedTargetError(Exception):
    """The target's ARN names a service this delivery does not reach."""


class _Arn:
    """The parts of an ARN delivery needs: ``arn:partition:service:region:account:resource``."""

    def __init__(self, arn: str) -> None:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            raise UnsupportedTargetError(
                f"target ARN {arn!r} is not an ARN (arn:partition:service:region:account:resource)"
            )
        self.arn = arn
        _, self.partition, self.service, self.region, self.account, self.resource = parts

    @property
    def last_segment(self) -> str:
        return self.resource.split(":")[-1].split("/")[-1]


def target_kind(arn: str) -> str:
    """``lambda``, ``states``, ``sqs``, ``logs``, ``moto`` (left to moto) or ``unsupported``."""
    try:
        parsed = _Arn(arn)
    except UnsupportedTargetError:
        return "unsupported"
    if parsed.service == "lambda" and parsed.resource.startswith("function:"):
        return "lambda"
    if parsed.service == "states" and parsed.resource.startswith("stateMachine:"):
        return "states"
    if parsed.service in ("sqs", "logs"):
        return parsed.service
    if parsed.service == "events":
        return "moto"
    return "unsupported"


def delivered_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event as targets see it: ISO ``time``, no moto-internal ``ingestion-time``."""
    shaped = {key: value for key, value in event.items() if key != "ingestion-time"}
    if "time" in shaped:
        shaped["time"] = event_time_iso(shaped["time"])
    return shaped


def json_document(text: str) -> str:
    """``text`` if it is JSON, else ``text`` as a JSON string (Lambda and Step Functions take JSON)."""
    try:
        json.loads(text)
    except ValueError:
        return json.dumps(text)
    return text


def _is_permanent(exc: BaseException) -> bool:
    name = type(exc).__name__
    code = str(getattr(exc, "code", "") or getattr(exc, "error_type", ""))
    return any(marker in name or marker in code for marker in _PERMANENT_ERROR_MARKERS)


def _error_code(exc: BaseException) -> str:
    return str(getattr(exc, "error_type", "") or getattr(exc, "code", "") or type(exc).__name__)


def _error_message(exc: BaseException) -> str:
    # moto's service errors render as "404 Not Found: {json}"; their message is the readable part.
    return str(getattr(exc, "message", "") or exc or type(exc).__name__)[:1000]


class EventDelivery:
    """Fans a firing out to its targets on a small thread pool, with retries and DLQs."""

    def __init__(
        self,
        log: FiringLog,
        moto_send: MotoSend,
        stop_event: threading.Event,
        max_workers: int = DEFAULT_MAX_WORKERS,
        max_pending: int = DEFAULT_MAX_PENDING,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self._log = log
        self._moto_send = moto_send
        self._stop = stop_event
        self._retry_delays = retry_delays
        self._max_pending = max_pending
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="events-delivery")
        self._closed = False

    def deliver(self, rule: Any, event: dict[str, Any], trigger: Trigger) -> FiringRecord:
        """Record the firing and hand each target to the pool; returns at once.

        ``event`` is in moto's internal shape (epoch ``time``, ``ingestion-time``).
        """
        targets = list(rule.targets)  # a request thread may change the rule meanwhile
        shaped = delivered_event(event)
        record = FiringRecord(
            rule_arn=rule.arn,
            rule_name=rule.name,
            trigger=trigger,
            event_id=str(shaped.get("id", "")),
            time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            targets=[TargetOutcome(target_id=str(t.get("Id", "")), arn=str(t.get("Arn", ""))) for t in targets],
        )
        self._log.add(record)
        ingestion_time = event_time_iso(event.get("ingestion-time", event.get("time", 0)))
        left_to_moto: list[tuple[dict[str, Any], TargetOutcome]] = []
        for target, outcome in zip(targets, record.targets, strict=True):
            kind = target_kind(outcome.arn)
            if kind == "moto":
                left_to_moto.append((target, outcome))
                continue
            try:
                text = render_target_input(
                    target, shaped, rule_arn=rule.arn, rule_name=rule.name, ingestion_time=ingestion_time
                )
            except ValueError as exc:
                self._finish_failed(record, outcome, target, shaped, exc, attempts=0)
                continue
            self._submit(record, outcome, target, kind, text, shaped)
        if left_to_moto:
            self._send_with_moto(rule, left_to_moto, event)
        return record

    def _send_with_moto(
        self, rule: Any, pairs: list[tuple[dict[str, Any], TargetOutcome]], event: dict[str, Any]
    ) -> None:
        # Archives and event buses are moto's own and in-memory: done here, synchronously.
        try:
            self._moto_send(rule, [target for target, _ in pairs], event)
        except Exception as exc:
            logger.warning("rule %s: moto's delivery to %s failed: %s", rule.arn, [o.arn for _, o in pairs], exc)
            for _, outcome in pairs:
                self._log.update(
                    outcome, status="failed", attempts=1, error=f"{_error_code(exc)}: {_error_message(exc)}"
                )
            return
        for _, outcome in pairs:
            self._log.update(outcome, status="delivered", attempts=1)

    def _submit(
        self,
        record: FiringRecord,
        outcome: TargetOutcome,
        target: dict[str, Any],
        kind: str,
        text: str,
        event: dict[str, Any],
    ) -> None:
        with self._pending_lock:
            overloaded = self._pending >= self._max_pending
            if not overloaded:
                self._pending += 1
        if overloaded or self._closed:
            why = "delivery queue full" if overloaded else "embedded cloud stopping"
            logger.error("rule %s: dropped delivery to %s: %s", record.rule_arn, outcome.arn, why)
            self._log.update(outcome, status="failed", error=why)
            return
        try:
            future = self._pool.submit(self._run, record, outcome, target, kind, text, event)
        except RuntimeError:  # the pool shut down between the check and the submit
            with self._pending_lock:
                self._pending -= 1
            self._log.update(outcome, status="failed", error="embedded cloud stopping")
            return
        future.add_done_callback(lambda done: self._note_cancelled(done, outcome))

    def _note_cancelled(self, future: Future[None], outcome: TargetOutcome) -> None:
        # shutdown() cancels queued deliveries; their records must not stay "pending".
        if future.cancelled():
            with self._pending_lock:
                self._pending -= 1
            self._log.update(outcome, status="failed", error="embedded cloud stopped before delivery")

    def _run(
        self,
        record: FiringRecord,
        outcome: TargetOutcome,
        target: dict[str, Any],
        kind: str,
        text: str,
        event: dict[str, Any],
    ) -> None:
        try:
            self._attempt_until_done(record, outcome, target, kind, text, event)
        except Exception:  # never let a worker die silently
            logger.exception("rule %s: delivery to %s crashed", record.rule_arn, outcome.arn)
            self._log.update(outcome, status="failed", error="delivery crashed; see the server log")
        finally:
            with self._pending_lock:
                self._pending -= 1

    def _allowed_retries(self, target: dict[str, Any]) -> int:
        policy = target.get("RetryPolicy") or {}
        wanted = policy.get("MaximumRetryAttempts")
        if wanted is None:
            return len(self._retry_delays)
        return max(0, min(int(wanted), len(self._retry_delays)))

    def _attempt_until_done(
        self,
        record: FiringRecord,
        outcome: TargetOutcome,
        target: dict[str, Any],
        kind: str,
        text: str,
        event: dict[str, Any],
    ) -> None:
        retries = self._allowed_retries(target)
        attempts = 0
        while True:
            attempts += 1
            try:
                detail = self._send(kind, outcome.arn, target, text, event)
            except Exception as exc:
                permanent = isinstance(exc, UnsupportedTargetError) or _is_permanent(exc)
                if permanent or attempts > retries:
                    self._finish_failed(record, outcome, target, event, exc, attempts)
                    return
                logger.info(
                    "rule %s: delivery to %s failed (attempt %d), retrying: %s",
                    record.rule_arn,
                    outcome.arn,
                    attempts,
                    exc,
                )
                self._log.update(outcome, attempts=attempts, error=f"{_error_code(exc)}: {_error_message(exc)}")
                if self._stop.wait(self._retry_delays[attempts - 1]):
                    self._finish_failed(record, outcome, target, event, exc, attempts)
                    return
                continue
            self._log.update(outcome, status="delivered", attempts=attempts, error=None, detail=detail)
            return

    def _send(self, kind: str, arn: str, target: dict[str, Any], text: str, event: dict[str, Any]) -> str | None:
        parsed = _Arn(arn)
        if kind == "lambda":
            return _invoke_function(parsed, text)
        if kind == "states":
            return _start_execution(parsed, text)
        if kind == "sqs":
            group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
            return _send_to_queue(parsed, text, group_id=group_id, deduplication_id=str(event.get("id") or ""))
        if kind == "logs":
            return _put_log_event(parsed, text)
        raise UnsupportedTargetError(
            f"unsupported target type {parsed.service!r} ({arn}); the embedded cloud delivers to Lambda, "
            "Step Functions, SQS, CloudWatch Logs, event buses and archives"
        )

    def _finish_failed(
        self,
        record: FiringRecord,
        outcome: TargetOutcome,
        target: dict[str, Any],
        event: dict[str, Any],
        exc: BaseException,
        attempts: int,
    ) -> None:
        error = f"{_error_code(exc)}: {_error_message(exc)}"
        dlq_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        logger.warning(
            "rule %s: delivery to %s failed after %d attempt(s)%s: %s",
            record.rule_arn,
            outcome.arn,
            attempts,
            f", sending to dead-letter queue {dlq_arn}" if dlq_arn else "",
            error,
        )
        if not dlq_arn:
            self._log.update(outcome, status="failed", attempts=attempts, error=error)
            return
        attributes = {
            "ERROR_CODE": _string_attribute(_error_code(exc)),
            "ERROR_MESSAGE": _string_attribute(_error_message(exc)),
            "RULE_ARN": _string_attribute(record.rule_arn),
            "TARGET_ARN": _string_attribute(outcome.arn),
            "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": str(max(attempts - 1, 0))},
        }
        try:
            message_id = _send_to_queue(
                _Arn(dlq_arn),
                json.dumps(event),
                message_attributes=attributes,
                deduplication_id=str(event.get("id") or ""),
            )
        except Exception as dlq_exc:
            logger.error("rule %s: dead-letter queue %s refused the event: %s", record.rule_arn, dlq_arn, dlq_exc)
            self._log.update(
                outcome, status="failed", attempts=attempts, error=f"{error}; dead-letter queue failed: {dlq_exc}"
            )
            return
        self._log.update(
            outcome, status="dead-lettered", attempts=attempts, error=error, detail=f"dead-letter message {message_id}"
        )

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop taking work; wait up to ``timeout`` for deliveries under way; drop queued ones."""
        self._closed = True
        done = threading.Event()

        def _wait() -> None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            done.set()

        # shutdown(wait=True) has no timeout of its own; a hung target must not hang stop().
        threading.Thread(target=_wait, name="events-delivery-shutdown", daemon=True).start()
        if not done.wait(timeout):
            logger.warning("event deliveries still running after %.1f s; leaving them to finish", timeout)


def _string_attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _invoke_function(arn: _Arn, text: str) -> str | None:
    from moto.awslambda.utils import get_backend

    backend = get_backend(arn.account, arn.region)
    # moto's Docker-less backend answers any name without looking it up; EventBridge reports a
    # missing function (and dead-letters the event), so look first.
    backend.get_function(arn.arn, None)
    response_headers: dict[str, str] = {}
    backend.invoke(
        function_name=arn.arn,
        qualifier=None,
        body=json_document(text),
        headers={"x-amz-invocation-type": "Event"},
        response_headers=response_headers,
    )
    if response_headers.get("x-amz-function-error"):
        logger.warning("lambda %s returned a function error for an EventBridge event", arn.arn)
        return f"function error ({response_headers['x-amz-function-error']})"
    return None


def _start_execution(arn: _Arn, text: str) -> str:
    from moto.stepfunctions.responses import get_backend

    # get_backend follows the server's execute_state_machine switch, as the API does.
    execution = get_backend(arn.account, arn.region).start_execution(
        state_machine_arn=arn.arn, name=str(uuid.uuid4()), execution_input=json_document(text)
    )
    return str(execution.execution_arn)


def _send_to_queue(
    arn: _Arn,
    body: str,
    group_id: str | None = None,
    deduplication_id: str = "",
    message_attributes: dict[str, Any] | None = None,
) -> str:
    from moto.sqs import sqs_backends

    queue_name = arn.last_segment
    is_fifo = queue_name.endswith(".fifo")
    message = sqs_backends[arn.account][arn.region].send_message(
        queue_name=queue_name,
        message_body=body,
        message_attributes=message_attributes,
        # EventBridge uses the event id to deduplicate what it sends to FIFO queues.
        deduplication_id=(deduplication_id or str(uuid.uuid4())) if is_fifo else None,
        group_id=(group_id or "eventbridge") if is_fifo else None,
    )
    return str(message.id)


def _put_log_event(arn: _Arn, text: str) -> str:
    from moto.logs import logs_backends

    # log-group:/aws/events/name, sometimes written with a trailing ":*".
    group = arn.resource.split(":", 1)[1] if ":" in arn.resource else arn.resource
    group = group.removesuffix(":*")
    stream = str(uuid.uuid4())
    backend = logs_backends[arn.account][arn.region]
    backend.create_log_stream(group, stream)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    backend.put_log_events(group, stream, [{"timestamp": now_ms, "message": text}])
    return stream
