"""Calls the e2e tests make on the session stack: its table names, a function invoked and its answer."""

from __future__ import annotations

import json
from typing import Any

from healops.deploy.stack import StackInfo


def tables(stack: StackInfo) -> dict[str, str]:
    return stack.outputs["dynamodb_table_names"]


def invoke(aws: Any, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = aws("lambda").invoke(FunctionName=function, Payload=json.dumps(payload))
    body = json.loads(response["Payload"].read() or b"null")
    assert "FunctionError" not in response, body
    return body
