"""``healops bench deploy``: time from nothing to an applied, healthy stack, and a second apply.

Runs on its own port and state directory, so a running ``healops up`` is left alone.
``--fleet-size N`` applies ``terraform/`` with ``fleet_size = N`` (the issue's benchmarks need
8 and 1,000): N error-rate alarms, N service log groups and an N-service seed of the fleet
table, each counted in the deployed stack after the apply.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from healops import aws
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.deploy.stack import StackOptions, down, terraform_runner, up
from healops.deploy.terraform import TerraformRunner
from healops.local.server import free_port

console = bench_console()

MAX_FLEET_SIZE = 5000  # terraform/variables.tf's validation of fleet_size


@dataclass(frozen=True)
class DeployedCounts:
    """What the apply left in the cloud, counted there (not taken from Terraform's word)."""

    terraform_resources: int
    error_rate_alarms: int
    service_log_groups: int
    fleet_items: int


def fleet_size_arg(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_FLEET_SIZE}, got {text!r}") from None
    if not 1 <= size <= MAX_FLEET_SIZE:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_FLEET_SIZE}, got {size}")
    return size


def build_parser() -> argparse.ArgumentParser:
    parser = bench_parser("deploy", __doc__)
    parser.add_argument("--port", type=int, default=0, help="endpoint port (default: a free one)")
    parser.add_argument(
        "--fleet-size",
        type=fleet_size_arg,
        default=None,
        metavar="N",
        help=f"apply with Terraform's fleet_size = N (1 to {MAX_FLEET_SIZE}; default: the variable's default, 8)",
    )
    parser.add_argument(
        "--no-second-apply",
        action="store_true",
        help="stop after the second plan (a large fleet's second apply repeats its refresh)",
    )
    return parser


def stack_variables(fleet_size: int | None) -> dict[str, Any]:
    return {} if fleet_size is None else {"fleet_size": fleet_size}


def count_deployed(runner: TerraformRunner, outputs: dict[str, Any], endpoint_url: str) -> DeployedCounts:
    listed = subprocess.run(
        ["terraform", "state", "list"], cwd=runner.work_dir, env=runner.env(), capture_output=True, text=True
    )
    resources = [line for line in listed.stdout.splitlines() if line and not line.startswith("data.")]
    cloudwatch, logs = aws.client("cloudwatch", endpoint_url), aws.client("logs", endpoint_url)
    alarm_names = set((outputs.get("cloudwatch_error_rate_alarm_names") or {}).values())
    alarms = sum(
        1
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
        for alarm in page["MetricAlarms"]
        if alarm["AlarmName"] in alarm_names
    )
    group_names = set((outputs.get("cloudwatch_service_log_group_names") or {}).values())
    groups = sum(
        1
        for page in logs.get_paginator("describe_log_groups").paginate()
        for group in page["logGroups"]
        if group["logGroupName"] in group_names
    )
    fleet_table = (outputs.get("dynamodb_table_names") or {}).get("fleet", "healops-fleet")
    dynamodb = aws.client("dynamodb", endpoint_url)
    items = sum(
        page["Count"] for page in dynamodb.get_paginator("scan").paginate(TableName=fleet_table, Select="COUNT")
    )
    return DeployedCounts(len(resources), alarms, groups, items)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    second_apply_s: float | None = None
    with tempfile.TemporaryDirectory(prefix="healops-bench-deploy-") as tmp:
        options = StackOptions(
            port=args.port or free_port("127.0.0.1"), state_dir=Path(tmp), variables=stack_variables(args.fleet_size)
        )
        try:
            with console.status("healops up --detach") as status:
                info = up(options, progress=lambda step, detail: status.update(f"{step}: {detail}"))
                runner = terraform_runner(options)
                status.update("counting what the apply deployed")
                counts = count_deployed(runner, info.outputs, info.endpoint_url)
                status.update("second plan (-detailed-exitcode)")
                started = time.monotonic()
                changes = runner.plan_has_changes()
                plan_s = time.monotonic() - started
                if not args.no_second_apply:
                    status.update("second apply")
                    second_apply_s = runner.apply()
        finally:
            down(options.state_dir)
    # Without --fleet-size, the size is Terraform's default: the services its outputs name.
    size = args.fleet_size or len(info.outputs.get("cloudwatch_service_log_group_names") or {})
    table = Table("step", "seconds", title=f"deploy from nothing (embedded cloud), fleet_size {size}")
    for key, value in info.timings.items():
        table.add_row(key.removesuffix("_s"), f"{value:.1f}")
    table.add_row("second plan", f"{plan_s:.1f}")
    if second_apply_s is not None:
        table.add_row("second apply", f"{second_apply_s:.1f}")
    console.print(table)
    console.print(
        f"deployed: {counts.terraform_resources} Terraform resources, {counts.error_rate_alarms} error-rate alarms, "
        f"{counts.service_log_groups} service log groups, {counts.fleet_items} fleet table items"
    )
    console.print(f"second plan reports changes: {'YES (drift!)' if changes else 'no'}")
    short = [
        what
        for what, found in (
            ("alarms", counts.error_rate_alarms),
            ("log groups", counts.service_log_groups),
            ("fleet items", counts.fleet_items),
        )
        if found != size
    ]
    if short:
        console.print(f"[red]expected {size} of each, but these differ: {', '.join(short)}[/red]")
    return 1 if changes or short else 0
