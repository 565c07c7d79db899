"""``healops status`` and ``healops down``."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from healops import aws, paths
from healops.deploy.processes import server_process
from healops.deploy.stack import down, read_stack

console = Console()


def endpoint_answers(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url}/moto-api/data.json", timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


def last_invocation(logs: Any, function_name: str) -> str:
    """When the function last wrote to its log group: works on any runtime, AWS included."""
    try:
        streams = logs.describe_log_streams(
            logGroupName=f"/aws/lambda/{function_name}", orderBy="LastEventTime", descending=True, limit=1
        )["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return "never"
    if not streams or "lastEventTimestamp" not in streams[0]:
        return "never"
    at = datetime.fromtimestamp(streams[0]["lastEventTimestamp"] / 1000, tz=UTC)
    ago = (datetime.now(tz=UTC) - at).total_seconds()
    return f"{at:%H:%M:%S} UTC ({ago:.0f} s ago)"


def run_status() -> int:
    state_dir = paths.state_dir()
    stack = read_stack(state_dir)
    proc = server_process(state_dir).running()
    if stack is None or proc is None:
        console.print("endpoint    [red]not running[/red] (start it with `healops up`)")
        return 1
    endpoint = stack["endpoint_url"]
    up_now = endpoint_answers(endpoint)
    console.print(
        f"endpoint    {endpoint}  {'[green]up[/green]' if up_now else '[red]not answering[/red]'}"
        f"  (pid {proc.pid}, time scale x{stack['time_scale']:g})"
    )
    if not up_now:
        return 1
    lam = aws.client("lambda", endpoint_url=endpoint)
    deployed = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    expected = stack["outputs"].get("lambda_function_names") or {}
    wanted = sorted(expected.values()) if isinstance(expected, dict) else sorted(deployed)
    missing = [name for name in wanted if name not in deployed]
    console.print(
        f"deployed    {'[green]yes[/green]' if not missing else '[red]incomplete[/red]'}: "
        f"{len(deployed)} functions" + (f", missing {', '.join(missing)}" if missing else "")
    )
    logs = aws.client("logs", endpoint_url=endpoint)
    table = Table("function", "last invocation")
    for name in wanted:
        table.add_row(name, last_invocation(logs, name) if name in deployed else "[red]not deployed[/red]")
    console.print(table)
    return 0 if not missing else 1


def run_down() -> int:
    stopped = down(paths.state_dir())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0
