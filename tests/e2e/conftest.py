"""One embedded stack per test session: the real zips, the real Terraform, applied once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healops.deploy.stack import StackInfo, StackOptions, down, up
from healops.local.server import free_port
from tests.conftest import make_client

# A rate(1 minute) schedule fires every second; alarm periods of 60 s span one real second.
TIME_SCALE = 60.0
# Production defaults are in variables.tf.
TEST_VARIABLES: dict[str, Any] = {
    # A fault-free chaos schedule: e2e tests inject their own faults.
    "chaos_enabled": False,
    # Three copies of the named graph: the remediation tests give each fault a service of its own.
    "fleet_size": 24,
    # Lambda timeouts are real seconds, on a machine other work shares. A remediator step (a plan reads the metrics
    # of the service and its neighbours) took up to 1.4 s at load averages 1 and 15 on 2 cores, so 3 s failed under
    # load 30: three timed-out tries, and a fixable incident escalated. The queue's visibility timeout is at least
    # the function's, as AWS requires of an event source mapping; the redrive test waits for three of them.
    "lambda_timeouts": {"remediator": 20},
    "incidents_visibility_timeout_s": 20,
    # Remediation tests run incidents back to back and approve within seconds.
    "remediation_policy": {"max_concurrent": 20},
    "remediation_approval_timeout_s": 30,
}


@pytest.fixture(scope="session")
def stack_options(tmp_path_factory: pytest.TempPathFactory) -> StackOptions:
    return StackOptions(
        port=free_port("127.0.0.1"),
        state_dir=Path(tmp_path_factory.mktemp("stack")),
        time_scale=TIME_SCALE,
        variables=TEST_VARIABLES,
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
