"""Metrics generator: on each tick, a Heartbeat metric for Heal-Ops itself.

The fleet's telemetry (per-service metrics and logs from the fleet state) replaces this in a
later issue; until then the heartbeat shows that the schedule, the function and CloudWatch
are wired together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from healops import config

logger = Logger()

HEARTBEAT_METRIC = "Heartbeat"


@cache
def cloudwatch() -> Any:
    return boto3.client("cloudwatch")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    namespace = config.current().metrics_namespace
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
    logger.info("tick", extra={"namespace": namespace, "metric": HEARTBEAT_METRIC, "at": now.isoformat()})
    return {"namespace": namespace, "metrics": [HEARTBEAT_METRIC], "at": now.isoformat()}
