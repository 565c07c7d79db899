"""``healops status`` and ``healops down``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Column, Table

from healops import aws, paths
from healops.deploy import health
from healops.deploy.processes import server_process
from healops.deploy.stack import down, not_running, running_stack

console = Console()


def _ago(at: datetime) -> str:
    return f"{at:%H:%M:%S} UTC ({(datetime.now(tz=UTC) - at).total_seconds():.0f} s ago)"


def last_log_event(logs: Any, function_name: str) -> str:
    """When the function last wrote to its log group: works on any runtime, AWS included."""
    try:
        streams = logs.describe_log_streams(
            logGroupName=f"/aws/lambda/{function_name}", orderBy="LastEventTime", descending=True, limit=1
        )["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return "never"
    if not streams or "lastEventTimestamp" not in streams[0]:
        return "never"
    return _ago(datetime.fromtimestamp(streams[0]["lastEventTimestamp"] / 1000, tz=UTC))


def function_table(endpoint: str, names: dict[str, str]) -> Table:
    records = health.lambda_invocations(endpoint)
    table = Table(Column("function", no_wrap=True), "last invocation", "outcome", "invocations", "errors")
    logs = aws.client("logs", endpoint_url=endpoint)
    for name in sorted(names.values()):
        record = (records or {}).get(name)
        if record is None:
            # Not invoked since the cloud started, or an endpoint without the embedded runtime.
            table.add_row(name, last_log_event(logs, name), "-", "-", "-")
            continue
        outcome = record["last_outcome"]
        if record.get("last_error_type"):
            outcome += f" ({record['last_error_type']})"
        table.add_row(
            name,
            _ago(datetime.fromisoformat(record["last_invoked_at"])),
            outcome if record["last_outcome"] == "success" else f"[red]{outcome}[/red]",
            str(record["invocations"]),
            str(record["errors"]),
        )
    return table


def run_status() -> int:
    state_dir = paths.state_dir()
    stack = running_stack(state_dir)
    proc = server_process(state_dir).running()
    if proc is None:  # it stopped a moment ago
        raise not_running(state_dir)
    endpoint = stack["endpoint_url"]
    answers = health.endpoint_answers(endpoint)
    console.print(
        f"endpoint    {endpoint}  {'[green]up[/green]' if answers else '[red]not answering[/red]'}"
        f"  (pid {proc.pid}, time scale x{stack['time_scale']:g})"
    )
    if not answers:
        return 1
    verdict = health.check(endpoint, stack["outputs"])
    if verdict.healthy:
        console.print("deployed    [green]yes[/green], healthy")
    else:
        console.print("deployed    [red]not healthy[/red]:\n  - " + "\n  - ".join(verdict.problems))
    console.print(function_table(endpoint, stack["outputs"].get("lambda_function_names") or {}))
    return 0 if verdict.healthy else 1


def run_down() -> int:
    stopped = down(paths.state_dir())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0
