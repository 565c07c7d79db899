"""EventBridge additions: schedule rules that fire, and delivery to Lambda and Step Functions.

moto stores rules and targets and, on PutEvents, matches patterns and delivers to SQS, Logs
and archives; it never fires schedule rules and cannot reach Lambda or Step Functions
targets (a PutEvents that matches a rule with a Lambda target fails with a 500). With this
extension installed:

- Schedule rules fire (:mod:`.scheduler`): every ENABLED rule with a ``ScheduleExpression``
  on every bus, account and region, on a clock that runs ``time_scale`` times faster from
  the cloud's start; ``rate(...)`` first fires one period after the rule appears;
  the payload is AWS's Scheduled Event (``"detail-type": "Scheduled Event"``,
  ``"source": "aws.events"``, ``resources`` the rule ARN, ``time`` real wall-clock time).
- ``rate(...)`` and AWS's six-field ``cron(...)`` are parsed by :mod:`.schedule` (croniter
  behind an adapter; its docstring lists what is covered and what is rejected). PutRule
  rejects an expression EventBridge would reject, with a message naming the field.
- Every matched event (PutEvents over HTTP, in-process ``put_events`` calls such as the
  CloudWatch alarm evaluator's, S3 notifications, replays) and every scheduled firing is
  delivered by :mod:`.delivery` to Lambda functions (asynchronously, InvocationType Event),
  Step Functions state machines (an execution with the event as input), SQS queues and
  CloudWatch Logs groups; archives and event buses stay with moto's own code. Each target's
  ``Input``, ``InputPath`` and ``InputTransformer`` are applied (:mod:`.payload`).
- Deliveries run on a small thread pool: the caller (a PutEvents request) never waits.
  Failures are logged and retried twice with backoff; what still fails goes to the target's
  ``DeadLetterConfig`` queue. Nothing fails the caller.
- Rules that are DISABLED receive nothing, and a schedule-only rule no longer matches every
  PutEvents event (both moto quirks).
- :func:`last_firings` returns each rule's last firing (time, trigger, targets, outcome).

Limits: the retry policy is bounded (two quick retries, not EventBridge's 24 hours);
``MaximumEventAgeInSeconds``, ``RoleArn`` permissions, ``RunCommand``/``Ecs``/``Batch``/
``Kinesis``/``Sns`` targets, and cron years after 2099 are not supported (unsupported
targets are recorded as failed deliveries). While no embedded cloud runs (moto used through
its decorators in the same process), moto behaves as shipped.
"""

from __future__ import annotations

from healops.local.events.extension import EventBridgeDelivery, last_firings

__all__ = ["EventBridgeDelivery", "last_firings"]
