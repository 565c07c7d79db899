"""moto-backed tables, log groups and buckets shaped as terraform/ creates them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.fleet.clock import SimClock
from healops.fleet.definition import load_definition
from healops.fleet.injector import Injector
from healops.store.fleet import FleetRepository
from healops.store.injections import InjectionsRepository

REGION = "us-east-1"


def create_tables(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="fleet",
        KeySchema=[{"AttributeName": "service", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "service", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName="injections",
        KeySchema=[{"AttributeName": "injection_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "injection_id", "AttributeType": "S"},
            {"AttributeName": "service", "AttributeType": "S"},
            {"AttributeName": "injected_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_service",
                "KeySchema": [
                    {"AttributeName": "service", "KeyType": "HASH"},
                    {"AttributeName": "injected_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        clients = {name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "logs", "s3", "cloudwatch")}
        create_tables(clients["dynamodb"])
        yield clients


@pytest.fixture
def repos(aws_env: dict[str, Any]) -> tuple[FleetRepository, InjectionsRepository]:
    return FleetRepository("fleet", aws_env["dynamodb"]), InjectionsRepository("injections", aws_env["dynamodb"])


@pytest.fixture
def injector(repos: tuple[FleetRepository, InjectionsRepository]) -> Injector:
    fleet, injections = repos
    injector = Injector(fleet, injections, SimClock(60.0, 1.0), seed=3)
    injector.seed_fleet(load_definition().model_dump(mode="json"), 8)
    return injector


def table_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName=table)["Items"], key=lambda i: str(i))
