"""What the issue's audit did from a web page, against the stack `healops up` starts (the cloud in its own process,
the dashboard in its own): every request refused, and the stack untouched."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from healops.deploy import health
from healops.deploy.stack import StackInfo
from tests.helpers import raw_request
from tests.integration.local.test_local_only import LIST_TABLES

EVIL = "http://evil.example"


def port_of(url: str) -> int:
    return int(urlsplit(url).port or 0)


def amz_json(target: str) -> dict[str, str]:
    return {**LIST_TABLES, "X-Amz-Target": target}


@pytest.mark.parametrize(
    ("what", "headers", "body"),
    [
        ("ListTables", LIST_TABLES, "{}"),
        (
            "GetParameter with decryption (the LLM keys)",
            {**amz_json("AmazonSSM.GetParameter"), "Content-Type": "application/x-amz-json-1.1"},
            json.dumps({"Name": "/healops/llm/gemini_api_key", "WithDecryption": True}),
        ),
        (
            "SendTaskSuccess (an approval past the dashboard)",
            {**amz_json("AWSStepFunctions.SendTaskSuccess"), "Content-Type": "application/x-amz-json-1.0"},
            json.dumps({"taskToken": "stolen", "output": "{}"}),
        ),
    ],
    ids=["list-tables", "ssm-get-parameter", "send-task-success"],
)
def test_a_pages_cross_origin_call_to_the_cloud_is_refused(
    stack: StackInfo, what: str, headers: dict[str, str], body: str
) -> None:
    status, answer_headers, answer = raw_request(
        port_of(stack.endpoint_url), "POST", "/", {**headers, "Origin": EVIL}, body
    )
    assert status == 403, what
    assert not [h for h in answer_headers if h.startswith("access-control-")], what
    assert "healops-" not in answer, what


def test_a_preflight_from_a_page_gets_no_allowance(stack: StackInfo) -> None:
    preflight = {
        "Origin": EVIL,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target",
    }
    status, headers, _ = raw_request(port_of(stack.endpoint_url), "OPTIONS", "/", preflight)
    assert status == 403 and not [h for h in headers if h.startswith("access-control-")]


def test_a_rebound_host_gets_nothing_from_the_cloud(stack: StackInfo) -> None:
    port = port_of(stack.endpoint_url)
    status, _, body = raw_request(port, "POST", "/", LIST_TABLES, "{}", host=f"evil.example:{port}")
    assert status == 403 and "healops-" not in body


def test_a_moto_api_reset_is_refused_and_the_stack_stays(stack: StackInfo, aws: Any) -> None:
    status, _, _ = raw_request(port_of(stack.endpoint_url), "POST", "/moto-api/reset", {})
    assert status == 403
    assert health.check(stack.endpoint_url, stack.outputs).healthy
    assert any(name.startswith("healops-") for name in aws("dynamodb").list_tables()["TableNames"])


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io"])
def test_the_running_dashboard_refuses_a_foreign_host(stack: StackInfo, host: str) -> None:
    port = port_of(stack.dashboard_url or "")
    status, _, body = raw_request(port, "GET", "/api/overview", {}, host=f"{host}:{port}")
    assert status == 400 and "not this dashboard" in body
    assert raw_request(port, "GET", "/api/overview", {})[0] == 200


def test_the_running_dashboard_keeps_its_session_secret_beside_the_token(stack: StackInfo) -> None:
    secret = Path(stack.dashboard_token_file or "").with_suffix(".secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) >= 40
