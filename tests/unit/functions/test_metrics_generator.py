from __future__ import annotations

import boto3
from moto import mock_aws

from tests.unit.functions.conftest import load_handler

metrics_generator = load_handler("metrics_generator")


def test_tick_puts_a_heartbeat_in_the_configured_namespace(event, monkeypatch):
    monkeypatch.setenv("HEALOPS_METRICS_NAMESPACE", "Unit/HeartbeatTest")
    with mock_aws():
        metrics_generator.cloudwatch.cache_clear()
        try:
            result = metrics_generator.handler(event("scheduled_event"), None)
            listed = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="Unit/HeartbeatTest")[
                "Metrics"
            ]
        finally:
            metrics_generator.cloudwatch.cache_clear()

    assert result["namespace"] == "Unit/HeartbeatTest"
    assert listed == [
        {
            "Namespace": "Unit/HeartbeatTest",
            "MetricName": "Heartbeat",
            "Dimensions": [{"Name": "Service", "Value": "heal-ops"}],
        }
    ]
