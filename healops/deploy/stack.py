"""Bring the whole stack up on the embedded cloud, and down again.

``up``: build the zips, start the embedded cloud, apply ``terraform/`` with tflocal, check the
deployment answers. Any failure stops what was started, so nothing is left half-running.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from healops import paths
from healops.deploy import health
from healops.deploy.errors import DeployError
from healops.deploy.processes import (
    dashboard_process,
    dashboard_token_file,
    server_process,
    snapshot_dir,
    start_dashboard,
    start_server,
)
from healops.deploy.terraform import TerraformRunner, check_tools
from healops.llm.deploy import split_secrets, terraform_variables_from_env
from healops.llm.exceptions import SettingsError
from healops.local.persistence import DEFAULT_SNAPSHOT_INTERVAL_S
from healops.local.persistence.format import SNAPSHOT_FILE
from healops.notify import deploy as notify_deploy
from healops.readiness import EMBEDDED_CLOUD_NOT_SAVED

logger = logging.getLogger(__name__)


@dataclass
class StackOptions:
    host: str = "127.0.0.1"
    port: int = 4566
    # Listen on a non-loopback host (healops.local.local_only: the cloud takes any credentials).
    allow_remote: bool = False
    time_scale: float = 1.0
    state_dir: Path = field(default_factory=paths.state_dir)
    terraform_dir: Path = paths.TERRAFORM_DIR
    build_dir: Path = paths.BUILD_DIR
    variables: dict[str, Any] = field(default_factory=dict)
    # The dashboard's port on 127.0.0.1 (0: a free one; None: no dashboard).
    dashboard_port: int | None = 0
    # Where the LLM settings come from (healops/llm/deploy.py); the process environment by default.
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Seconds between snapshots of the cloud's state (0: only at stop; None: keep nothing, start empty).
    snapshot_every: float | None = DEFAULT_SNAPSHOT_INTERVAL_S
    # Move the kept state aside (never deleted) and start empty.
    fresh: bool = False

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def tflocal(self) -> Path:
        return Path(sys.executable).parent / "tflocal"

    @property
    def stack_file(self) -> Path:
        return self.state_dir / "stack.json"


@dataclass
class StackInfo:
    endpoint_url: str
    server_pid: int
    time_scale: float
    outputs: dict[str, Any]
    timings: dict[str, float]
    dashboard_url: str | None = None
    dashboard_token_file: str | None = None
    # The snapshot the cloud started from (None: it started empty), and Terraform's apply summary.
    restored_from: str | None = None
    apply_summary: str | None = None


def terraform_runner(options: StackOptions) -> TerraformRunner:
    # The LLM settings and the notifier's sinks of the environment `up` runs in (terraform/llm.tf, notify.tf);
    # keys, webhook URLs and secrets only as TF_VAR_.
    try:
        llm_plain, llm_secret = split_secrets(terraform_variables_from_env(options.environ))
    except SettingsError as exc:
        raise DeployError(str(exc)) from None
    notify_plain, notify_secret = notify_deploy.split_secrets(
        notify_deploy.terraform_variables_from_env(options.environ)
    )
    variables = {
        "build_dir": str(options.build_dir),
        # The working copy sits elsewhere: name the fleet definition and the default policy absolutely; the
        # fleet's ticks follow the cloud's time scale, so every scheduled tick is a new simulated tick.
        "fleet_definition_file": str(paths.FLEET_DEFINITION_FILE),
        "remediation_policy_defaults_file": str(paths.REMEDIATION_POLICY_FILE),
        "fleet_time_scale": options.time_scale,
        # The embedded cloud gets the demo fleet as real ECS services and Lambda functions (terraform/demo_fleet.tf).
        "demo_fleet": True,
        **llm_plain,
        **notify_plain,
        **options.variables,
    }
    return TerraformRunner(
        source_dir=options.terraform_dir,
        work_dir=options.state_dir / "terraform",
        endpoint_url=options.endpoint_url,
        tflocal=options.tflocal,
        variables=variables,
        secret_variables={**llm_secret, **notify_secret},
    )


def package(build_dir: Path) -> None:
    script = paths.PROJECT_ROOT / "scripts" / "package.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--out", str(build_dir)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise DeployError(f"packaging the functions failed:\n{proc.stdout}{proc.stderr}")


def up(options: StackOptions, progress: Any = None) -> StackInfo:
    """Package, start the embedded cloud, apply Terraform, check health. ``progress(step, detail)`` reports."""

    def report(step: str, detail: str = "") -> None:
        if progress is not None:
            progress(step, detail)

    timings: dict[str, float] = {}
    started = time.monotonic()
    for cleaned in clear_stale(options.state_dir):
        logger.warning("an earlier run ended without `healops down`: %s", cleaned)
    check_tools(options.tflocal)
    report("package", "building one zip per function")
    package(options.build_dir)
    timings["package_s"] = time.monotonic() - started

    if options.fresh:
        aside = move_state_aside(options.state_dir)
        if aside is not None:
            report("fresh", f"the earlier state is now in {aside}")
    snapshot = snapshot_dir(options.state_dir) / SNAPSHOT_FILE
    restoring = options.snapshot_every is not None and snapshot.exists()
    report("cloud", f"{'restoring' if restoring else 'starting'} the embedded cloud on {options.endpoint_url}")
    pid = start_server(
        options.state_dir,
        options.host,
        options.port,
        options.time_scale,
        allow_remote=options.allow_remote,
        snapshot_every=options.snapshot_every,
    )
    timings["cloud_s"] = time.monotonic() - started - timings["package_s"]
    apply_summary: str | None = None
    try:
        runner = terraform_runner(options)
        # A restored cloud still holds what the last apply made: keep the state that describes it.
        runner.prepare(fresh_state=not restoring)
        report("init", "tflocal init")
        runner.init()
        created = 0

        def on_apply_line(line: str) -> None:
            nonlocal created, apply_summary
            if "Creation complete" in line:
                created += 1
                report("apply", f"{created} resources created")
            if line.startswith("Apply complete!"):
                apply_summary = line.removeprefix("Apply complete!").strip()

        report("apply", "tflocal apply")
        timings["apply_s"] = runner.apply(on_line=on_apply_line)
        outputs = runner.outputs()
        report("health", "checking the deployment answers")
        verdict = health.check(options.endpoint_url, outputs)
        if not verdict.healthy:
            raise DeployError("the stack was applied but is not healthy:\n- " + "\n- ".join(verdict.problems))
        dashboard_url = None
        if options.dashboard_port is not None:
            report("dashboard", "starting the dashboard")
            dashboard_url = start_dashboard(
                options.state_dir, options.dashboard_port, options.endpoint_url, time_scale=options.time_scale
            )
    except BaseException:
        dashboard_process(options.state_dir).stop()
        server_process(options.state_dir).stop()
        raise
    timings["total_s"] = time.monotonic() - started
    info = StackInfo(
        options.endpoint_url,
        pid,
        options.time_scale,
        outputs,
        timings,
        dashboard_url=dashboard_url,
        dashboard_token_file=str(dashboard_token_file(options.state_dir)) if dashboard_url else None,
        restored_from=str(snapshot) if restoring else None,
        apply_summary=apply_summary,
    )
    options.stack_file.write_text(json.dumps(asdict(info), indent=2))
    return info


def down(state_dir: Path) -> list[str]:
    """Stop every process ``up`` started; returns the names of those stopped."""
    stopped = []
    # The dashboard first: it reads from the cloud, never the other way round.
    for managed in (dashboard_process(state_dir), server_process(state_dir)):
        if managed.stop():
            stopped.append(managed.name)
    (state_dir / "stack.json").unlink(missing_ok=True)
    return stopped


def state_not_saved(state_dir: Path) -> str | None:
    """After ``down`` stopped the cloud: why it could not save its state as it stopped (its log's line), in words
    with what the next ``up`` starts from; None when it saved it."""
    log = server_process(state_dir).log_file
    try:
        lines = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    error = next((line for line in reversed(lines) if line.startswith(EMBEDDED_CLOUD_NOT_SAVED)), None)
    if error is None:
        return None
    snapshot = snapshot_dir(state_dir) / SNAPSHOT_FILE
    if snapshot.exists():
        saved = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(snapshot.stat().st_mtime))
        starts = f"the last snapshot that was saved ({snapshot}, {saved})"
    else:
        starts = "an empty cloud (no snapshot was ever saved)"
    why = error.removeprefix(EMBEDDED_CLOUD_NOT_SAVED).strip()
    return (
        f"the embedded cloud stopped but could not save its state ({why}): the next `healops up` starts from "
        f"{starts}; its log: {log}"
    )


def read_stack(state_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((state_dir / "stack.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def move_state_aside(state_dir: Path) -> Path | None:
    """Move the kept state (snapshots, Terraform's state) into ``aside/<UTC time>/``; never delete it.

    Returns where it went, or None when there was nothing to move.
    """
    kept = [snapshot_dir(state_dir), *sorted((state_dir / "terraform").glob("terraform.tfstate*"))]
    kept = [path for path in kept if path.exists()]
    if not kept:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = state_dir / "aside" / stamp
    for n in range(2, 100):
        if not aside.exists():
            break
        aside = state_dir / "aside" / f"{stamp}-{n}"
    aside.mkdir(parents=True)
    for path in kept:
        path.rename(aside / path.name)
    return aside


def clear_stale(state_dir: Path) -> list[str]:
    """Clean up what a run that died without ``down`` left behind; returns what was cleaned, in words.

    Only what is ours: pid files naming no live process of ours, a ``stack.json`` whose cloud is
    gone, and a dashboard of ours left reading from a cloud that is gone.
    """
    cleaned: list[str] = []
    server, dashboard = server_process(state_dir), dashboard_process(state_dir)
    for managed in (server, dashboard):
        if managed.pid_file.exists() and managed.running() is None:
            managed.pid_file.unlink(missing_ok=True)
            cleaned.append(f"removed the stale {managed.pid_file.name}")
    if server.running() is None:
        if dashboard.stop():
            cleaned.append("stopped a dashboard whose embedded cloud had gone")
        stack_file = state_dir / "stack.json"
        if stack_file.exists():
            stack_file.unlink()
            cleaned.append(f"removed the stale {stack_file.name}")
    return cleaned


def not_running(state_dir: Path) -> DeployError:
    return DeployError(f"no Heal-Ops stack is running (state directory {state_dir}): start it with `healops up`")
