from __future__ import annotations

import boto3
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.fleet.definition import load_definition
from healops.fleet.injector import Injector
from healops.store.fleet import FleetRepository
from healops.store.injections import InjectionsRepository
from tests.unit.functions.conftest import load_handler

metrics_generator = load_handler("metrics_generator")


def run(event):
    metrics_generator.cloudwatch.cache_clear()
    metrics_generator.clients.cache_clear()
    try:
        return metrics_generator.handler(event, None)
    finally:
        metrics_generator.cloudwatch.cache_clear()
        metrics_generator.clients.cache_clear()


def test_tick_puts_a_heartbeat_in_the_configured_namespace(event, monkeypatch):
    monkeypatch.setenv("HEALOPS_METRICS_NAMESPACE", "Unit/HeartbeatTest")
    with mock_aws():
        result = run(event("scheduled_event"))
        listed = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="Unit/HeartbeatTest")[
            "Metrics"
        ]

    assert result["namespace"] == "Unit/HeartbeatTest"
    assert "fleet" not in result  # no fleet table configured: the heartbeat alone
    assert listed == [
        {
            "Namespace": "Unit/HeartbeatTest",
            "MetricName": "Heartbeat",
            "Dimensions": [{"Name": "Service", "Value": "heal-ops"}],
        }
    ]


def test_tick_number_comes_from_the_event_time_and_every_service_gets_its_metrics(event, monkeypatch):
    monkeypatch.setenv("HEALOPS_FLEET_TABLE", "fleet")
    monkeypatch.setenv("HEALOPS_TICK_SECONDS", "60")
    scheduled = event("scheduled_event")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, ["fleet", "injections"])
        Injector(FleetRepository("fleet", dynamodb), InjectionsRepository("injections", dynamodb)).seed_fleet(
            load_definition().model_dump(mode="json"), 8
        )
        result = run(scheduled)
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        services = {
            m["Dimensions"][0]["Value"]
            for m in cloudwatch.list_metrics(Namespace="HealOps/Services", MetricName="LatencyP99")["Metrics"]
        }
    from datetime import datetime

    at = datetime.fromisoformat(scheduled["time"].replace("Z", "+00:00"))
    assert result["fleet"]["tick"] == int(at.timestamp()) // 60
    assert result["fleet"]["datapoints"] == 64
    assert services == {s.name for s in load_definition().services}
