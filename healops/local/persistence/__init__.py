"""The embedded cloud's state kept across restarts: snapshots of moto's backends.

Supported: every moto service the stack uses (DynamoDB items, S3 objects, SQS messages waiting
or in flight, CloudWatch metrics in the project's metric store and alarm states with their
history, Logs events, SSM parameters, IAM, Lambda functions, EventBridge rules, SNS, Step
Functions machines and executions), saved by pickling each backend in use (``capture``) into a
versioned, checksummed file written atomically (``format``), every ``interval`` seconds and at
stop (``store``).

Limits: a running Step Functions execution cannot be pickled mid-flight; it is started again from
its first state with its input after a restore (a retry). Its history before the restart is kept
only if it had finished. The extensions' own background state (a scheduler's next firing, a
Lambda worker, the invocation counters of ``/_healops/lambda/invocations``) is not saved: it is
rebuilt or starts anew.
"""

from __future__ import annotations

from healops.local.persistence.format import SnapshotError
from healops.local.persistence.store import DEFAULT_SNAPSHOT_INTERVAL_S, SnapshotReport, StatePersistence

__all__ = ["DEFAULT_SNAPSHOT_INTERVAL_S", "SnapshotError", "SnapshotReport", "StatePersistence"]
