"""The running embedded cloud over real HTTP: a web page's requests are refused, this machine's tools still work.

Hostile requests are sent as a browser would send them (``Origin``, ``Sec-Fetch-Site``, a rebound ``Host``), with
a fake signature, over a raw connection so every header is exactly the one tried. The tools (boto3 in both S3
addressing styles, the AWS CLI, awslocal and tflocal) run unchanged against the same endpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from healops.deploy.terraform import TerraformRunner
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from tests.conftest import make_client
from tests.helpers import raw_request

BIN = Path(sys.executable).parent
TABLE = "local-only-probe"
# What a page's fetch() sends for DynamoDB DescribeTable: the signature is made up, moto never checks it.
# DescribeTable of the probe rather than ListTables: moto's backends are per process, so the session's other
# stacks' tables share the listing, and a listing pages at 100 names.
DESCRIBE_TABLE = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIAFAKE/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-target, Signature=" + "0" * 64
    ),
}
DESCRIBE_BODY = json.dumps({"TableName": TABLE})
# The call the audit made (tests/e2e/test_local_only.py makes it against a deployed stack).
LIST_TABLES = {**DESCRIBE_TABLE, "X-Amz-Target": "DynamoDB_20120810.ListTables"}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("local-only"))
    with EmbeddedCloud(ctx, extensions=[]) as running:
        make_client(running.endpoint_url, "dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield running


def send(
    cloud: EmbeddedCloud, method: str, path: str, headers: dict[str, str], body: str = "", host: str | None = None
) -> tuple[int, dict[str, str], str]:
    return raw_request(cloud.ctx.port, method, path, headers, body, host)


def no_cors(headers: dict[str, str]) -> bool:
    return not [name for name in headers if name.startswith("access-control-")]


def test_the_same_request_without_an_origin_is_served(cloud: EmbeddedCloud) -> None:
    # The control for the refusals below: the request itself is one moto answers.
    status, headers, body = send(cloud, "POST", "/", DESCRIBE_TABLE, DESCRIBE_BODY)
    assert status == 200 and json.loads(body)["Table"]["TableName"] == TABLE
    assert no_cors(headers)


def test_a_cross_origin_request_is_refused(cloud: EmbeddedCloud) -> None:
    status, headers, body = send(cloud, "POST", "/", {**DESCRIBE_TABLE, "Origin": "http://evil.example"}, DESCRIBE_BODY)
    assert status == 403 and TABLE not in body and "cross-origin" in body
    assert no_cors(headers)


def test_a_preflight_gets_no_allowance(cloud: EmbeddedCloud) -> None:
    preflight = {
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-amz-target",
    }
    status, headers, _ = send(cloud, "OPTIONS", "/", preflight)
    assert status == 403 and no_cors(headers)


def test_a_request_from_another_site_without_an_origin_is_refused(cloud: EmbeddedCloud) -> None:
    # An <img src> or a top-level GET: no Origin, but the browser marks it cross-site; SQS answers query GETs.
    get = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
    status, headers, _ = send(cloud, "GET", "/?Action=ListQueues&Version=2012-11-05", get)
    assert status == 403 and no_cors(headers)


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io", "localhost.evil.example"])
def test_a_rebound_host_is_refused(cloud: EmbeddedCloud, host: str) -> None:
    status, _, body = send(cloud, "POST", "/", DESCRIBE_TABLE, DESCRIBE_BODY, host=f"{host}:{cloud.ctx.port}")
    assert status == 403 and TABLE not in body and "Host" in body


def test_moto_api_reset_is_refused_and_nothing_is_wiped(cloud: EmbeddedCloud) -> None:
    status, _, body = send(cloud, "POST", "/moto-api/reset", {})
    assert status == 403 and "/moto-api/" in body
    status, _, body = send(cloud, "GET", "/moto-api/data.json", {})
    assert status == 403
    assert (
        make_client(cloud.endpoint_url, "dynamodb").describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"
    )


def test_an_own_origin_gets_no_cors_headers_either(cloud: EmbeddedCloud) -> None:
    status, headers, _ = send(cloud, "POST", "/", {**DESCRIBE_TABLE, "Origin": cloud.endpoint_url}, DESCRIBE_BODY)
    assert status == 200 and no_cors(headers)


def test_boto3_s3_works_path_style_through_localhost(cloud: EmbeddedCloud) -> None:
    s3 = make_client(f"http://localhost:{cloud.ctx.port}", "s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="probe")
    s3.put_object(Bucket="probe", Key="k", Body=b"v")
    assert s3.get_object(Bucket="probe", Key="k")["Body"].read() == b"v"


@pytest.mark.parametrize("name", ["vhost.s3.localhost", "vhost.localhost"])
def test_s3_virtual_host_names_under_localhost_are_served(cloud: EmbeddedCloud, name: str) -> None:
    # <bucket>.s3.localhost does not resolve here (glibc has no *.localhost rule): send the Host a resolver would.
    make_client(cloud.endpoint_url, "s3").create_bucket(Bucket="vhost")
    port = cloud.ctx.port
    status, _, _ = raw_request(
        port,
        "PUT",
        "/k",
        {"Authorization": DESCRIBE_TABLE["Authorization"].replace("/dynamodb/", "/s3/")},
        "v",
        f"{name}:{port}",
    )
    assert status == 200
    assert make_client(cloud.endpoint_url, "s3").get_object(Bucket="vhost", Key="k")["Body"].read() == b"v"


def _cli_env(cloud: EmbeddedCloud) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": cloud.endpoint_url,
    }


@pytest.mark.parametrize(
    "command",
    [["aws", "--endpoint-url", "{endpoint}", "dynamodb", "list-tables"], ["awslocal", "dynamodb", "list-tables"]],
    ids=["aws-cli", "awslocal"],
)
def test_the_aws_cli_and_awslocal_work(cloud: EmbeddedCloud, command: list[str]) -> None:
    argv = [str(BIN / command[0]), *(arg.format(endpoint=cloud.endpoint_url) for arg in command[1:])]
    proc = subprocess.run(argv, env=_cli_env(cloud), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert TABLE in json.loads(proc.stdout)["TableNames"]


TFLOCAL_CONFIG = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
}
provider "aws" { region = "us-east-1" }
resource "aws_s3_bucket" "probe" { bucket = "tflocal-probe" }
resource "aws_s3_object" "probe" {
  bucket  = aws_s3_bucket.probe.id
  key     = "probe.txt"
  content = "applied through tflocal"
}
"""


def test_tflocal_applies_through_the_guard(cloud: EmbeddedCloud, tmp_path: Path) -> None:
    source = tmp_path / "tf"
    source.mkdir()
    (source / "main.tf").write_text(TFLOCAL_CONFIG)
    runner = TerraformRunner(source, tmp_path / "work", cloud.endpoint_url, BIN / "tflocal", {})
    runner.prepare(fresh_state=True)
    runner.init()
    runner.apply()
    body = make_client(cloud.endpoint_url, "s3").get_object(Bucket="tflocal-probe", Key="probe.txt")["Body"].read()
    assert body == b"applied through tflocal"
