"""SQS event source mappings consumed the way AWS does: by an asynchronous poller.

moto invokes a queue's mapped function synchronously inside ``SendMessage`` (the sender
waits for the consumer). That is switched off (every queue's
``lambda_event_source_mappings`` registry is kept empty) and a poller takes its place.

Supported:
- One poller thread per enabled mapping whose source is an SQS queue (standard or FIFO),
  polling every ~0.1 s real time; different mappings run concurrently, so a slow function
  never holds up another mapping. Mappings are read from moto's Lambda backend each poll:
  creating, disabling, re-enabling, updating or deleting one takes effect within a poll.
- Receives up to ``BatchSize`` messages through moto's SQS backend in process, with the
  queue's own visibility timeout; ``MaximumBatchingWindowInSeconds`` gathers more messages
  until the batch is full or the window (scaled by ``time_scale``) has passed.
- The event is AWS's: ``Records`` with ``messageId``, ``receiptHandle``, ``body``,
  ``attributes`` (``ApproximateReceiveCount``, ``SentTimestamp``, ``SenderId``,
  ``ApproximateFirstReceiveTimestamp``, plus ``SequenceNumber``, ``MessageGroupId``,
  ``MessageDeduplicationId`` for FIFO and ``AWSTraceHeader`` when set),
  ``messageAttributes``, ``md5OfBody`` (and ``md5OfMessageAttributes``), ``eventSource``,
  ``eventSourceARN``, ``awsRegion``.
- The function is invoked through moto's Lambda backend (so :mod:`healops.local.awslambda`
  runs it). Success deletes the batch; with ``FunctionResponseTypes: [ReportBatchItemFailures]``
  only the messages not listed in ``batchItemFailures`` are deleted, and an invalid answer fails
  the whole batch, as AWS documents; a function error deletes nothing. Messages not deleted
  come back after the visibility timeout.
- Redrive: moto's ``ReceiveMessage`` moves a message whose receive count reached the queue's
  ``maxReceiveCount`` to the dead-letter queue when it is next received; the poller relies on it.

Limits: visibility timeouts are moto's, in whole real seconds, not scaled by ``time_scale``
(keep them short in tests); one batch in flight per mapping (AWS scales pollers out);
``ScalingConfig``, ``FilterCriteria``, ``MaximumRetryAttempts`` and on-failure destinations are
ignored; DynamoDB and Kinesis stream mappings keep moto's own behaviour.
"""

from __future__ import annotations

from healops.local.sqs.models import EventSourceMappingPoller

__all__ = ["EventSourceMappingPoller"]
