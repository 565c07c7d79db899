"""``healops up``: the whole system on this machine, in the foreground or detached."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from rich.console import Console

from healops.deploy.errors import DeployError
from healops.deploy.processes import server_process
from healops.deploy.stack import StackInfo, StackOptions, down, state_not_saved, up
from healops.fleet.faults import FaultKind
from healops.local.local_only import RemoteBindError, check_bind_host, is_loopback, remote_exposure

console = Console()


def dashboard_lines(info: StackInfo) -> str:
    if not info.dashboard_url:
        return "dashboard    not started (--dashboard-port none)\n"
    return (
        f"dashboard    {info.dashboard_url}   (health, incidents, reasoning traces, live metrics and logs)\n"
        f"             write token for approve/deny: {info.dashboard_token_file}\n"
    )


# The fault the printed example injects, with a parameter, on a service every fleet size has.
EXAMPLE_FAULT = FaultKind.ERROR_STORM
EXAMPLE_PARAMS = {"error_pct": 50}
EXAMPLE_SERVICES = ("checkout", "edge")


def example_service(info: StackInfo) -> str:
    """A service of the deployed fleet for the printed example: checkout if deployed, else the first."""
    deployed = info.outputs.get("cloudwatch_service_log_group_names") or {}
    names = list(deployed) if isinstance(deployed, dict) else []
    return next((name for name in EXAMPLE_SERVICES if name in names), names[0] if names else EXAMPLE_SERVICES[0])


def inject_lines(info: StackInfo) -> str:
    names = info.outputs.get("lambda_function_names") or {}
    injector = names.get("injector", "injector") if isinstance(names, dict) else "injector"
    service = example_service(info)
    payload = json.dumps({"action": "inject", "service": service, "fault": EXAMPLE_FAULT, "params": EXAMPLE_PARAMS})
    param = " ".join(f"--param {key}={value}" for key, value in EXAMPLE_PARAMS.items())
    return (
        f"inject       .venv/bin/healops inject {service} {EXAMPLE_FAULT} {param}   "
        f"(faults, services: inject --list; undo: inject --clear {service})\n"
        f"             .venv/bin/awslocal lambda invoke --function-name {injector} --payload '{payload}' out.json\n"
        "             (the venv's AWS CLI is v1; with AWS CLI v2 add --cli-binary-format raw-in-base64-out)\n"
    )


def where_to_look(info: StackInfo) -> str:
    return (
        f"endpoint     {info.endpoint_url}   (time scale x{info.time_scale:g})\n"
        f"{dashboard_lines(info)}"
        f"status       .venv/bin/healops status\n"
        f"AWS CLI      .venv/bin/awslocal lambda list-functions    (AWS_ENDPOINT_URL={info.endpoint_url})\n"
        f"{inject_lines(info)}"
        f"stop         Ctrl-C here, or .venv/bin/healops down"
    )


def parse_dashboard_port(args: argparse.Namespace) -> int | None:
    value = str(getattr(args, "dashboard_port", "8050"))
    if value == "none":
        return None
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise DeployError(f"--dashboard-port must be a port number (0 for a free one) or 'none', got {value!r}")
    return int(value)


def run_up(args: argparse.Namespace) -> int:
    if args.time_scale <= 0:
        raise DeployError(f"--time-scale must be a positive number, got {args.time_scale}")
    allow_remote = bool(getattr(args, "allow_remote", False))
    try:
        check_bind_host(args.host, allow_remote)
    except RemoteBindError as exc:
        raise DeployError(str(exc)) from exc
    if not is_loopback(args.host):
        console.print(f"[yellow]{remote_exposure(args.host, args.port)}[/yellow]", soft_wrap=True, highlight=False)
    snapshot_every = getattr(args, "snapshot_every", 30.0)
    if snapshot_every < 0:
        raise DeployError(f"--snapshot-every must be 0 (only at stop) or positive seconds, got {snapshot_every:g}")
    options = StackOptions(
        host=args.host,
        port=args.port,
        allow_remote=allow_remote,
        time_scale=args.time_scale,
        dashboard_port=parse_dashboard_port(args),
        snapshot_every=snapshot_every,
        fresh=getattr(args, "fresh", False),
    )
    with console.status("starting Heal-Ops") as status:

        def progress(step: str, detail: str) -> None:
            status.update(f"[bold]{step}[/bold]: {detail}")

        info = up(options, progress=progress)
    t = info.timings
    console.print(
        f"[green]Heal-Ops is up[/green] in {t['total_s']:.1f} s "
        f"(package {t['package_s']:.1f} s, cloud {t['cloud_s']:.1f} s, apply {t['apply_s']:.1f} s)"
    )
    if info.restored_from:
        console.print(
            f"restored     the state kept in {info.restored_from} (apply: {info.apply_summary or 'no summary'})",
            soft_wrap=True,
            highlight=False,
        )
    # Plain lines, never wrapped: the commands must stay copy-pastable in any terminal width.
    console.print(where_to_look(info), soft_wrap=True, highlight=False)
    if args.detach:
        return 0
    console.print("running in the foreground: EventBridge schedules fire, alarms are evaluated. Ctrl-C stops.")
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    managed = server_process(options.state_dir)
    while not stopping:
        if managed.running() is None:
            console.print(f"[red]the embedded cloud exited[/red]; its log: {managed.log_file}")
            down(options.state_dir)
            return 1
        time.sleep(0.5)
    console.print("stopping ...")
    stopped = down(options.state_dir)
    console.print("stopped.")
    unsaved = state_not_saved(options.state_dir) if "server" in stopped else None
    if unsaved is not None:
        print(f"error: {unsaved}", file=sys.stderr)
        return 1
    return 0
