"""moto-backed tables, log groups and buckets shaped as terraform/ creates them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.fleet.clock import SimClock
from healops.fleet.definition import load_definition
from healops.fleet.injector import Injector
from healops.store.fleet import FleetRepository
from healops.store.injections import InjectionsRepository
from tests.helpers import use_moto_credentials

REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    use_moto_credentials(monkeypatch, REGION)
    with mock_aws():
        clients = {name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "logs", "s3", "cloudwatch")}
        create_tables(clients["dynamodb"], ["fleet", "injections"])
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
