"""The ``healops`` command: ``up``, ``down``, ``status`` and ``bench``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from botocore.exceptions import EndpointConnectionError

from healops.deploy.errors import DeployError

BENCHES = {
    "invoke": "healops.bench.invoke",
    "metrics": "healops.bench.metrics",
    "gsi": "healops.bench.gsi",
    "deploy": "healops.bench.deploy",
    "llm": "healops.bench.llm",
    "nab": "healops.bench.nab",
    "rca": "healops.bench.rca",
    "prediction": "healops.bench.prediction",
    "step-faults": "healops.bench.step_faults",
    "fleet": "healops.bench.fleet",
    "detector": "healops.bench.detector",
    "remediation": "healops.bench.remediation",
    "remediation-sweep": "healops.bench.remediation_sweep",
    "closed-loop": "healops.bench.closed_loop",
    "chaos": "healops.bench.chaos",
    "dashboard": "healops.bench.dashboard",
    "snapshot": "healops.bench.snapshot",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="build, start the embedded cloud, apply terraform/, run until Ctrl-C")
    up.add_argument("--detach", action="store_true", help="return once the stack is applied and healthy")
    up.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="run schedules, alarm periods and Step Functions waits N times faster (default 1)",
    )
    up.add_argument("--port", type=int, default=4566, help="endpoint port (default 4566)")
    up.add_argument("--host", default="127.0.0.1", help="endpoint address, loopback only (default 127.0.0.1)")
    up.add_argument(
        "--allow-remote",
        action="store_true",
        help="let --host be an address other machines can reach (prints what that exposes)",
    )
    up.add_argument(
        "--dashboard-port",
        default="8050",
        help="dashboard port on 127.0.0.1 (default 8050; 0: a free port; none: no dashboard)",
    )
    up.add_argument(
        "--fresh",
        action="store_true",
        help="start empty: the kept state moves to .healops/aside/<time>/",
    )
    up.add_argument(
        "--snapshot-every",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds between snapshots of the cloud's state in .healops/state/ (default 30; 0: only at stop)",
    )

    sub.add_parser("down", help="stop everything `healops up` started")
    sub.add_parser("status", help="endpoint, deployment and each function's last invocation")

    from healops.cli.inject import add_parser as add_inject_parser

    add_inject_parser(sub)

    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench.add_argument("name", choices=sorted(BENCHES))
    bench.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the benchmark (--help for each)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "up":
            from healops.cli.up import run_up

            return run_up(args)
        if args.command == "down":
            from healops.cli.status import run_down

            return run_down()
        if args.command == "status":
            from healops.cli.status import run_status

            return run_status()
        if args.command == "inject":
            from healops.cli.inject import run_inject

            return run_inject(args)
        if args.command == "bench":
            module = importlib.import_module(BENCHES[args.name])
            return int(module.main(args.args))
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except EndpointConnectionError as exc:
        # The stack's endpoint stopped answering between the check and the call: one line, no traceback.
        print(f"error: the stack's endpoint does not answer ({exc}): see `healops status`", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
