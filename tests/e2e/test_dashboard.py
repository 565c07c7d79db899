"""`healops up` starts the dashboard next to the stack; it reads the real tables, queue and metrics."""

from __future__ import annotations

import json
import stat
import urllib.request
from pathlib import Path
from typing import Any

from healops.deploy.processes import dashboard_process
from healops.deploy.stack import StackInfo, StackOptions


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def test_up_starts_the_dashboard_on_loopback_with_a_private_token(
    stack: StackInfo, stack_options: StackOptions
) -> None:
    assert stack.dashboard_url is not None and stack.dashboard_url.startswith("http://127.0.0.1:")
    token_file = Path(stack.dashboard_token_file or "")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and len(token_file.read_text().strip()) >= 20
    assert dashboard_process(stack_options.state_dir).running() is not None


def test_dashboard_reads_the_deployed_stack(stack: StackInfo) -> None:
    status, body = get(stack.dashboard_url + "api/overview")  # type: ignore[operator]
    overview = json.loads(body)
    assert status == 200
    assert {s["service"] for s in overview["services"]} >= {"checkout", "payments", "ledger-db"}
    assert overview["dlq_depth"] is not None, overview["dlq_error"]
    assert overview["guard"]["policy_source"].endswith("/remediation/policy")
    status, page = get(stack.dashboard_url)  # type: ignore[arg-type]
    assert status == 200 and b"Fleet health" in page
    status, body = get(stack.dashboard_url + "api/services/checkout/metrics?minutes=10")  # type: ignore[operator]
    assert status == 200 and json.loads(body)["series"]["Heartbeat"]  # the generator's ticks reach the charts


def test_the_dashboard_charts_by_the_tick_terraform_deployed(stack: StackInfo, aws: Any) -> None:
    name = stack.outputs["ssm_stack_parameter_name"]
    discovery = json.loads(aws("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    assert discovery["tick_seconds"] == 60  # tick_schedule's default, rate(1 minute)
    status, page = get(stack.dashboard_url + "services/checkout")  # type: ignore[operator]
    assert status == 200
    assert b"Metrics (last 30 minutes of the fleet's time)" in page and b'data-window-minutes="30"' in page
