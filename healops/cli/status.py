"""``healops status`` and ``healops down``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Column, Table

from healops import aws, paths
from healops.cli.target import Target, resolve_target
from healops.deploy import health

console = Console()


def _ago(at: datetime) -> str:
    return f"{at:%H:%M:%S} UTC ({(datetime.now(tz=UTC) - at).total_seconds():.0f} s ago)"


def last_log_event(logs: Any, function_name: str) -> datetime | None:
    """When the function last wrote to its log group: works on any runtime, AWS included."""
    try:
        streams = logs.describe_log_streams(
            logGroupName=f"/aws/lambda/{function_name}", orderBy="LastEventTime", descending=True, limit=1
        )["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return None
    if not streams or "lastEventTimestamp" not in streams[0]:
        return None
    return datetime.fromtimestamp(streams[0]["lastEventTimestamp"] / 1000, tz=UTC)


def function_rows(endpoint: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """Each function's last invocation (None: never), outcome, invocations and errors (None: not known)."""
    records = health.lambda_invocations(endpoint)
    logs = aws.client("logs", endpoint_url=endpoint)
    rows = []
    for name in sorted(names.values()):
        record = (records or {}).get(name)
        if record is None:
            # Not invoked since the cloud started, or an endpoint without the embedded runtime.
            rows.append(
                {
                    "function": name,
                    "last_invocation": last_log_event(logs, name),
                    "outcome": None,
                    "error_type": None,
                    "invocations": None,
                    "errors": None,
                }
            )
            continue
        rows.append(
            {
                "function": name,
                "last_invocation": datetime.fromisoformat(record["last_invoked_at"]),
                "outcome": record["last_outcome"],
                "error_type": record.get("last_error_type"),
                "invocations": record["invocations"],
                "errors": record["errors"],
            }
        )
    return rows


def function_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(Column("function", no_wrap=True), "last invocation", "outcome", "invocations", "errors")
    for row in rows:
        at = row["last_invocation"]
        outcome = row["outcome"] or "-"
        if row["error_type"]:
            outcome += f" ({row['error_type']})"
        table.add_row(
            row["function"],
            _ago(at) if at else "never",
            outcome if row["outcome"] in (None, "success") else f"[red]{outcome}[/red]",
            "-" if row["invocations"] is None else str(row["invocations"]),
            "-" if row["errors"] is None else str(row["errors"]),
        )
    return table


def status_report(target: Target) -> dict[str, Any]:
    """What ``healops status`` shows, as data: the endpoint, the deployment's health, each function."""
    stack = target.local_stack
    report: dict[str, Any] = {
        "endpoint_url": target.endpoint_url,
        "endpoint_from": target.source,
        "pid": None,
        "time_scale": stack["time_scale"] if stack else None,
        "answers": False,
        "healthy": False,
        "problems": [],
        "functions": [],
    }
    if stack is not None:
        from healops.deploy.processes import server_process  # a stack healops up runs: the local extra is here
        from healops.deploy.stack import not_running

        proc = server_process(paths.state_dir()).running()
        if proc is None:  # it stopped a moment ago
            raise not_running(paths.state_dir())
        report["pid"] = proc.pid
    report["answers"] = health.endpoint_answers(target.endpoint_url)
    if not report["answers"]:
        report["problems"].append(f"the endpoint {target.endpoint_url} does not answer")
        return report
    outputs = stack["outputs"] if stack else {"lambda_function_names": target.function_names}
    verdict = health.check(target.endpoint_url, outputs)
    report["healthy"] = verdict.healthy
    report["problems"] = list(verdict.problems)
    report["functions"] = function_rows(target.endpoint_url, target.function_names)
    return report


def print_report(report: dict[str, Any]) -> None:
    scale = f", time scale x{report['time_scale']:g}" if report["time_scale"] is not None else ""
    pid = f"pid {report['pid']}, " if report["pid"] is not None else ""
    state = "[green]up[/green]" if report["answers"] else "[red]not answering[/red]"
    console.print(f"endpoint    {report['endpoint_url']}  {state}  ({pid}from {report['endpoint_from']}{scale})")
    if not report["answers"]:
        return
    if report["healthy"]:
        console.print("deployed    [green]yes[/green], healthy")
    else:
        console.print("deployed    [red]not healthy[/red]:\n  - " + "\n  - ".join(report["problems"]))
    console.print(function_table(report["functions"]))


def run_status(endpoint_url: str | None = None, name_prefix: str = "healops", as_json: bool = False) -> int:
    """The report as text or JSON on stdout; no stack to report on is a DeployError (one line on stderr)."""
    report = status_report(resolve_target(endpoint_url, name_prefix))
    if as_json:
        json.dump(report, sys.stdout, indent=2, default=lambda at: at.isoformat())
        sys.stdout.write("\n")
    else:
        print_report(report)
    return 0 if report["healthy"] else 1


def run_down() -> int:
    from healops.deploy.stack import down, state_not_saved

    stopped = down(paths.state_dir())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    unsaved = state_not_saved(paths.state_dir()) if "server" in stopped else None
    if unsaved is not None:
        print(f"error: {unsaved}", file=sys.stderr)
        return 1
    return 0
