"""`healops up` options and what it prints: the dashboard, and how to inject a fault."""

from __future__ import annotations

import argparse
import json
import re
import shlex

import pytest

from healops.cli import build_parser
from healops.cli.inject import build_payload
from healops.cli.up import parse_dashboard_port, where_to_look
from healops.deploy.errors import DeployError
from healops.deploy.stack import StackInfo
from healops.fleet.faults import fault_type
from healops.models import InjectorRequest


@pytest.mark.parametrize(
    ("given", "port"), [([], 8050), (["--dashboard-port", "0"], 0), (["--dashboard-port", "none"], None)]
)
def test_dashboard_port_option(given: list[str], port: int | None) -> None:
    assert parse_dashboard_port(build_parser().parse_args(["up", *given])) == port


@pytest.mark.parametrize("bad", ["eighty", "-1", "70000"])
def test_a_bad_dashboard_port_is_refused_with_what_is_accepted(bad: str) -> None:
    with pytest.raises(DeployError, match=r"port number .* or 'none'"):
        parse_dashboard_port(argparse.Namespace(dashboard_port=bad))


def test_where_to_look_prints_the_dashboard_url_and_token_file() -> None:
    info = StackInfo("http://127.0.0.1:4566", 1, 1.0, {}, {}, "http://127.0.0.1:8050/", "/s/dashboard.token")
    shown = where_to_look(info)
    assert "dashboard    http://127.0.0.1:8050/" in shown and "/s/dashboard.token" in shown
    assert "not part of this release" not in shown
    assert "not started" in where_to_look(StackInfo("http://127.0.0.1:4566", 1, 1.0, {}, {}))


def printed_inject_commands(shown: str) -> tuple[list[str], dict]:
    """The `healops inject` argv and the `awslocal lambda invoke` payload that where_to_look prints."""
    cli = re.search(r"\.venv/bin/healops inject (.+?)\s{2,}\(", shown)
    invoke = re.search(r"awslocal lambda invoke --function-name injector --payload '(.+?)' out\.json", shown)
    assert cli and invoke, shown
    return shlex.split(cli.group(1)), json.loads(invoke.group(1))


@pytest.mark.parametrize(
    ("services", "expected"),
    [({"edge": "/g/edge", "checkout": "/g/checkout"}, "checkout"), ({"edge": "/g/edge"}, "edge"), ({}, "checkout")],
)
def test_where_to_look_prints_an_inject_example_the_injector_accepts(services: dict, expected: str) -> None:
    outputs = {"lambda_function_names": {"injector": "injector"}, "cloudwatch_service_log_group_names": services}
    shown = where_to_look(StackInfo("http://127.0.0.1:4566", 1, 1.0, outputs, {}))
    argv, payload = printed_inject_commands(shown)
    # The awslocal payload is a real inject request, on a deployed service, with parameters the catalog accepts.
    request = InjectorRequest.model_validate(payload)
    assert (request.action, request.service) == ("inject", expected)
    fault_type(request.fault).parse_params(request.params)
    # `healops inject ...` as printed sends the same request.
    sent = build_payload(build_parser().parse_args(["inject", *argv]), "cli:test")
    assert {k: v for k, v in sent.items() if k != "requested_by"} == payload
    assert "--cli-binary-format raw-in-base64-out" in shown  # the AWS CLI v2 note
