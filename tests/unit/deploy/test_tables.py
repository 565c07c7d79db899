"""Tables for tests and benchmarks come from terraform/tables.tf, the deployed schema."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables, table_specs


def test_specs_mirror_terraform_keys_and_indexes() -> None:
    specs = table_specs()
    assert specs["incidents"].hash_key == "incident_id" and specs["incidents"].range_key is None
    assert specs["incidents"].indexes == {"by_status": ("status", "opened_at"), "by_service": ("service", "opened_at")}
    assert specs["agent_decisions"].attributes["seq"] == "N"
    assert specs["idempotency"].ttl == "expiration"


def test_created_tables_have_the_deployed_keys_and_gsis() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, {"incidents": "t-incidents", "idempotency": "t-idem"})
        create_tables(client, {"incidents": "t-incidents"})  # again: left alone
        table = client.describe_table(TableName="t-incidents")["Table"]
        assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"by_status", "by_service"}
        ttl = client.describe_time_to_live(TableName="t-idem")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "expiration"


def test_unknown_table_is_named_in_the_error() -> None:
    with mock_aws(), pytest.raises(KeyError, match="no table nope"):
        create_tables(boto3.client("dynamodb", region_name="us-east-1"), ["nope"])
