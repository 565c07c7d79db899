"""One embedded stack per test session: the real zips, the real Terraform, applied once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healops.deploy.stack import StackInfo, StackOptions, down, up
from healops.local.server import free_port
from tests.conftest import make_client
from tests.notify_support import Stub, stub_receiver

# A rate(1 minute) schedule fires every second; alarm periods of 60 s span one real second.
TIME_SCALE = 60.0
# Production defaults are in variables.tf.
TEST_VARIABLES: dict[str, Any] = {
    # A fault-free chaos schedule: e2e tests inject their own faults.
    "chaos_enabled": False,
    # Three copies of the named graph: the remediation tests give each fault a service of its own.
    "fleet_size": 24,
    # Lambda timeouts are real seconds, on a machine other work shares. A remediation step (a plan reads the metrics
    # of the service and its neighbours) took up to 1.4 s at load averages 1 and 15 on 2 cores, so 3 s failed under
    # load 30: three timed-out tries, and a fixable incident escalated. The queue's visibility timeout is at least
    # the function's, as AWS requires of an event source mapping; the redrive test waits for three of them.
    "lambda_timeouts": {"remediator": 20, "planner": 20},
    "incidents_visibility_timeout_s": 20,
    # Remediation tests run incidents back to back and approve within seconds.
    "remediation_policy": {"max_concurrent": 20},
    "remediation_approval_timeout_s": 30,
    "notify_dashboard_url": "http://dashboard.e2e.invalid",
}
# The notifier's secrets, as `healops up` reads them from its environment (only as TF_VAR_ to Terraform, which
# writes them to SSM write-only): distinctive, so tests/e2e/test_notify.py can look for them where they must not be.
SLACK_TOKEN = "T0E2E/B0E2E/e2e-slack-webhook-token-5f1c"
PAGERDUTY_ROUTING_KEY = "e2e-pagerduty-routing-key-0d9a7c3b21"
WEBHOOK_TOKEN = "e2e-webhook-url-token-77ab"
WEBHOOK_SECRET = "e2e-webhook-hmac-secret-c4e1a9"


@pytest.fixture(scope="session")
def sink_stubs() -> Iterator[dict[str, Stub]]:
    """Slack, PagerDuty and webhook receivers on loopback for the whole session: the stack's notifier tells them."""
    with (
        stub_receiver("/services") as slack,
        stub_receiver("/v2/enqueue") as pagerduty,
        stub_receiver("/hook") as webhook,
    ):
        yield {"slack": slack, "pagerduty": pagerduty, "webhook": webhook}


@pytest.fixture(scope="session")
def stack_options(tmp_path_factory: pytest.TempPathFactory, sink_stubs: dict[str, Stub]) -> StackOptions:
    environ = {
        **os.environ,
        "HEALOPS_NOTIFY_SLACK_WEBHOOK_URL": f"{sink_stubs['slack'].url}/{SLACK_TOKEN}",
        "HEALOPS_NOTIFY_PAGERDUTY_ROUTING_KEY": PAGERDUTY_ROUTING_KEY,
        "HEALOPS_NOTIFY_PAGERDUTY_EVENTS_URL": sink_stubs["pagerduty"].url,
        "HEALOPS_NOTIFY_WEBHOOK_URL": f"{sink_stubs['webhook'].url}?token={WEBHOOK_TOKEN}",
        "HEALOPS_NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    return StackOptions(
        port=free_port("127.0.0.1"),
        state_dir=Path(tmp_path_factory.mktemp("stack")),
        time_scale=TIME_SCALE,
        variables=TEST_VARIABLES,
        environ=environ,
    )


@pytest.fixture(scope="session")
def stack(stack_options: StackOptions) -> Iterator[StackInfo]:
    info = up(stack_options)
    try:
        yield info
    finally:
        down(stack_options.state_dir)


@pytest.fixture(scope="session")
def aws(stack: StackInfo) -> Any:
    """``aws("sqs")``: a client for the session's stack."""

    def client(service: str) -> Any:
        return make_client(stack.endpoint_url, service)

    return client
