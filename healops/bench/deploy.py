"""``healops bench deploy``: time from nothing to an applied, healthy stack, and a second apply.

Runs on its own port and state directory, so a running ``healops up`` is left alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from healops.deploy.stack import StackOptions, down, terraform_runner, up
from healops.local.server import free_port

console = Console()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="healops bench deploy", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="endpoint port (default: a free one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="healops-bench-deploy-") as tmp:
        options = StackOptions(port=args.port or free_port("127.0.0.1"), state_dir=Path(tmp))
        try:
            with console.status("healops up --detach") as status:
                info = up(options, progress=lambda step, detail: status.update(f"{step}: {detail}"))
                runner = terraform_runner(options)
                status.update("second plan (-detailed-exitcode)")
                started = time.monotonic()
                changes = runner.plan_has_changes()
                plan_s = time.monotonic() - started
                status.update("second apply")
                second_apply_s = runner.apply()
        finally:
            down(options.state_dir)
    table = Table("step", "seconds", title="deploy from nothing (embedded cloud)")
    for key, value in info.timings.items():
        table.add_row(key.removesuffix("_s"), f"{value:.1f}")
    table.add_row("second plan", f"{plan_s:.1f}")
    table.add_row("second apply", f"{second_apply_s:.1f}")
    console.print(table)
    console.print(f"second plan reports changes: {'YES (drift!)' if changes else 'no'}")
    return 1 if changes else 0
