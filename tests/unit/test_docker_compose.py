"""docker-compose.yml, checked statically: this machine has the Docker client but no engine to run it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
# Settings LocalStack 4.14 reads that this file may use (docs.localstack.cloud, "Configuration").
READ_BY_LOCALSTACK_4 = {
    "SERVICES",
    "LOCALSTACK_AUTH_TOKEN",
    "DEBUG",
    "PERSISTENCE",
    "GATEWAY_LISTEN",
    "LOCALSTACK_HOST",
}
# Services terraform/ creates resources in (tflocal sends them all to LocalStack).
STACK_SERVICES = {
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sns",
    "sqs",
    "ssm",
    "stepfunctions",
    "sts",
}


def localstack() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]["localstack"]


def environment() -> dict[str, str | None]:
    entries = localstack()["environment"]
    return {name: (value or None) for name, _, value in (entry.partition("=") for entry in entries)}


def test_the_image_is_the_last_community_release():
    assert localstack()["image"] == "localstack/localstack:4.14"


def test_the_endpoint_is_published_on_loopback_only():
    assert localstack()["ports"] == ["127.0.0.1:4566:4566"]


def test_the_healthcheck_asks_localstacks_health_endpoint():
    check = localstack()["healthcheck"]
    assert check["test"][0] == "CMD" and check["test"][-1] == "http://127.0.0.1:4566/_localstack/health"
    assert "-f" in check["test"][2] or "-fsS" in check["test"]


def test_only_settings_localstack_4_reads_and_the_auth_token_passed_through_when_set():
    env = environment()
    assert set(env) <= READ_BY_LOCALSTACK_4, f"not read by LocalStack 4.x: {set(env) - READ_BY_LOCALSTACK_4}"
    assert "LAMBDA_EXECUTOR" not in env
    # A bare name: compose passes the variable through from the shell when set, and omits it otherwise.
    assert env["LOCALSTACK_AUTH_TOKEN"] is None


def test_every_service_the_stack_uses_is_enabled_and_lambda_can_start_containers():
    assert set(environment()["SERVICES"].split(",")) == STACK_SERVICES
    assert "/var/run/docker.sock:/var/run/docker.sock" in localstack()["volumes"]
