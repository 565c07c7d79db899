"""Metrics generator: on each tick, Heal-Ops' own Heartbeat and the fleet's telemetry.

The tick number comes from the scheduled event's time (``healops.fleet.clock``); the metrics and
log lines from the fleet state (``healops.fleet.telemetry``, a pure model); the shipping from
``healops.fleet.generator``: batched PutMetricData, one PutLogEvents per service log group,
the tick's records to the hourly archives in S3.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3

from healops import config
from healops.fleet.archive import HourlyArchive
from healops.fleet.generator import MetricsGenerator
from healops.logs import function_logger, redact_errors
from healops.store.fleet import FleetRepository

logger = function_logger()

HEARTBEAT_METRIC = "Heartbeat"


@cache
def cloudwatch() -> Any:
    return boto3.client("cloudwatch")


@cache
def clients() -> dict[str, Any]:
    # Plain clients: the service logs and their archives are the simulated workload's own data, written as a real
    # workload writes its logs; Heal-Ops redacts what it reads of them (docs/security.md).
    return {name: boto3.client(name) for name in ("dynamodb", "logs", "s3")}


def event_time(event: Any) -> datetime:
    """The scheduled event's ``time`` (a direct invoke without one runs for now)."""
    raw = event.get("time") if isinstance(event, dict) else None
    if not raw:
        return datetime.now(UTC)
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def build_generator(settings: config.Settings) -> MetricsGenerator:
    c = clients()
    return MetricsGenerator(
        fleet=FleetRepository(settings.require("fleet_table"), c["dynamodb"]),
        cloudwatch=cloudwatch(),
        logs=c["logs"],
        namespace=settings.metrics_namespace,
        log_group_prefix=settings.service_log_group_prefix,
        clock=settings.clock(),
        seed=settings.fleet_seed,
        metric_archive=HourlyArchive(c["s3"], settings.metric_archive_bucket, "metrics")
        if settings.metric_archive_bucket
        else None,
        log_archive=HourlyArchive(c["s3"], settings.log_archive_bucket, "logs")
        if settings.log_archive_bucket
        else None,
    )


@redact_errors
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = config.current()
    namespace = settings.metrics_namespace
    now = datetime.now(UTC)
    cloudwatch().put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": HEARTBEAT_METRIC,
                "Dimensions": [{"Name": "Service", "Value": config.SELF_SERVICE_NAME}],
                "Timestamp": now,
                "Value": 1.0,
                "Unit": "Count",
            }
        ],
    )
    answer: dict[str, Any] = {"namespace": namespace, "metrics": [HEARTBEAT_METRIC], "at": now.isoformat()}
    if settings.fleet_table:
        report = build_generator(settings).run(event_time(event))
        answer["fleet"] = report.as_dict()
    logger.info("tick", extra=answer)
    return answer
