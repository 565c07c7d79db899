"""The SQS event source mapping poller: AWS's asynchronous consumer, in place of moto's."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from healops.local.base import BackgroundLoop, iter_backends
from healops.local.sqs.events import failed_message_ids, sqs_event

if TYPE_CHECKING:
    from moto.awslambda.models import EventSourceMapping

    from healops.local.context import EmbeddedContext

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL_SECONDS = 0.1
_JOIN_SECONDS = 2.0

_installed = False


class _NotInvokedOnSend(dict):  # type: ignore[type-arg]
    """Stands in for ``Queue.lambda_event_source_mappings``: always empty.

    moto invokes the functions registered there synchronously inside SendMessage. Keeping it
    empty switches that off; the poller reads mappings from the Lambda backend instead.
    """

    def __setitem__(self, key: Any, value: Any) -> None:
        return None


def _lambda_backend_dict() -> Any:
    # moto serves Lambda from the "simple" backends when use_docker is off (the embedded default).
    from moto.core.config import default_user_config

    if default_user_config.get("lambda", {}).get("use_docker", True) is False:
        from moto.awslambda_simple.models import lambda_simple_backends

        return lambda_simple_backends
    from moto.awslambda.models import lambda_backends

    return lambda_backends


def sqs_mappings() -> list[EventSourceMapping]:
    """Every event source mapping (enabled or not) whose source is an SQS queue."""
    found: list[EventSourceMapping] = []
    for _, _, backend in iter_backends(_lambda_backend_dict()):
        for mapping in list(getattr(backend, "_event_source_mappings", {}).values()):
            if mapping.event_source_arn.split(":")[2] == "sqs":
                found.append(mapping)
    return found


def _find_mapping(uuid: str) -> EventSourceMapping | None:
    return next((m for m in sqs_mappings() if m.uuid == uuid), None)


def _queue_location(queue_arn: str) -> tuple[str, str, str]:
    """(account, region, queue name) of ``arn:aws:sqs:<region>:<account>:<name>``."""
    parts = queue_arn.split(":")
    return parts[4], parts[3], parts[5]


class _MappingPoller:
    """One thread consuming one mapping's queue, a batch at a time."""

    def __init__(self, uuid: str, ctx: EmbeddedContext, poll_interval: float) -> None:
        self.uuid = uuid
        self._ctx = ctx
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        self._missing_queue_logged = False
        self._thread = threading.Thread(target=self._run, name=f"sqs-esm-{uuid[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            mapping = _find_mapping(self.uuid)
            if mapping is None or not mapping.enabled:
                return  # deleted or disabled; the scan starts a new poller if it comes back
            try:
                consumed = self.poll_once(mapping)
            except Exception:
                logger.exception("event source mapping %s: poll failed", self.uuid)
                consumed = False
            if not consumed:
                self._stop.wait(self._poll_interval)

    def _receive(self, sqs_backend: Any, queue: Any, count: int) -> list[Any]:
        return sqs_backend.receive_message(
            queue.name, count, 0, int(queue.visibility_timeout), message_attribute_names=["All"]
        )

    def poll_once(self, mapping: EventSourceMapping) -> bool:
        """Receive, invoke, delete what succeeded. True if a batch was handled."""
        from moto.sqs.exceptions import QueueDoesNotExist
        from moto.sqs.models import sqs_backends

        account, region, queue_name = _queue_location(mapping.event_source_arn)
        sqs_backend = sqs_backends[account][region]
        try:
            queue = sqs_backend.get_queue(queue_name)
        except QueueDoesNotExist:
            if not self._missing_queue_logged:
                logger.warning("event source mapping %s: queue %s does not exist", self.uuid, queue_name)
                self._missing_queue_logged = True
            return False
        self._missing_queue_logged = False
        batch_size = int(mapping.batch_size)
        messages = self._receive(sqs_backend, queue, batch_size)
        if not messages:
            return False
        # MaximumBatchingWindowInSeconds: keep gathering until the batch is full or the window
        # (simulated seconds, so scaled like every other interval) has passed.
        window = self._ctx.scaled(float(mapping.max_batch_window or 0))
        gather_until = time.monotonic() + window
        while len(messages) < batch_size and not self._stop.is_set():
            remaining = gather_until - time.monotonic()
            if remaining <= 0:
                break
            self._stop.wait(min(self._poll_interval, remaining))
            messages.extend(self._receive(sqs_backend, queue, batch_size - len(messages)))
        self._deliver(mapping, sqs_backend, queue, messages)
        return True

    def _deliver(self, mapping: EventSourceMapping, sqs_backend: Any, queue: Any, messages: list[Any]) -> None:
        from moto.awslambda.utils import get_backend

        event = sqs_event(messages, queue.queue_arn, mapping.region)
        response_headers: dict[str, Any] = {}
        message_ids = [m.id for m in messages]
        try:
            payload = get_backend(mapping.account_id, mapping.region).invoke(
                mapping.function_arn, None, json.dumps(event), {}, response_headers
            )
        except Exception:
            logger.exception("event source mapping %s: invoking %s failed", self.uuid, mapping.function_arn)
            return  # nothing deleted: the messages come back after the visibility timeout
        if "x-amz-function-error" in response_headers:
            failed = set(message_ids)
        elif "ReportBatchItemFailures" in (mapping.function_response_types or []):
            raw = payload.encode() if isinstance(payload, str) else bytes(payload or b"")
            failed = failed_message_ids(raw, message_ids)
        else:
            failed = set()
        for message in messages:
            if message.id in failed:
                continue
            try:
                sqs_backend.delete_message(queue.name, message.receipt_handle)
            except Exception:
                logger.exception("event source mapping %s: deleting %s failed", self.uuid, message.id)


class EventSourceMappingPoller:
    """Polls the SQS queues of enabled event source mappings and invokes their functions.

    See the package docstring for what is supported.
    """

    name = "sqs-event-source-mappings"

    def __init__(self, poll_interval: float = DEFAULT_POLL_INTERVAL_SECONDS) -> None:
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")
        self.poll_interval = poll_interval
        self._ctx: EmbeddedContext | None = None
        self._pollers: dict[str, _MappingPoller] = {}
        self._scan: BackgroundLoop | None = None
        self._lock = threading.Lock()

    def install(self, ctx: EmbeddedContext) -> None:
        self._ctx = ctx
        _install_patches()

    def start(self, ctx: EmbeddedContext) -> None:
        self._ctx = ctx
        self._scan = BackgroundLoop("sqs-esm-scan", self._start_pollers, lambda: self.poll_interval)
        self._scan.start()

    def stop(self) -> None:
        if self._scan is not None:
            self._scan.stop()
        with self._lock:
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for poller in pollers:
            poller.stop()
        for poller in pollers:
            # A poller in the middle of an invocation ends when the Lambda runtime stops.
            poller.join(_JOIN_SECONDS)

    def _start_pollers(self) -> None:
        """One poller thread per enabled SQS mapping that has none running."""
        assert self._ctx is not None
        for mapping in sqs_mappings():
            if not mapping.enabled:
                continue
            with self._lock:
                current = self._pollers.get(mapping.uuid)
                if current is not None and current.is_alive():
                    continue
                poller = _MappingPoller(mapping.uuid, self._ctx, self.poll_interval)
                self._pollers[mapping.uuid] = poller
            poller.start()


def _install_patches() -> None:
    """Empty every queue's synchronous-invoke registry, now and for queues created later."""
    global _installed
    if _installed:
        return
    from moto.sqs.models import Queue, sqs_backends

    original_init = Queue.__init__

    def _queue_init_without_sync_invoke(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.lambda_event_source_mappings = _NotInvokedOnSend()

    Queue.__init__ = _queue_init_without_sync_invoke  # type: ignore[method-assign]
    for _, _, backend in iter_backends(sqs_backends):
        for queue in list(backend.queues.values()):  # type: ignore[attr-defined]
            queue.lambda_event_source_mappings = _NotInvokedOnSend()
    _installed = True
