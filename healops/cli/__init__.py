"""healops: run Heal-Ops on this machine, inject faults into its fleet, look at it, measure it.

Commands: up (start the embedded cloud, apply terraform/, start the dashboard), down, status, inject (faults in
the running stack's simulated fleet), dashboard (serve a deployed stack's dashboard) and bench (benchmarks that
print figures). Each takes --help.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import sys
from dataclasses import dataclass

from botocore.exceptions import EndpointConnectionError

from healops import __version__
from healops.cli.target import add_target_arguments
from healops.deploy.errors import DeployError

# The optional extras (pyproject.toml) by the modules they bring, for a clear error when one is missing.
EXTRAS_BY_MODULE = {
    "moto": "local",
    "croniter": "local",
    "werkzeug": "local",  # the embedded cloud's routes (flask brings it too, but `up` needs the cloud first)
    "flask": "dashboard",
    "flask_wtf": "dashboard",
    "google": "llm",
    "openai": "llm",
    "matplotlib": "bench",
}


@dataclass(frozen=True)
class Bench:
    module: str
    summary: str
    # The bench writes its own JSON document with --json (chaos: its report.json), so the dispatcher leaves it be.
    own_json: bool = False


# One line each for `healops bench --help` (the modules are not imported to list them: some take seconds).
BENCHES = {
    "invoke": Bench("healops.bench.invoke", "cold and warm Lambda invoke latency on the embedded runtime"),
    "metrics": Bench("healops.bench.metrics", "the CloudWatch metric store under a 1,000-service fleet's load"),
    "gsi": Bench("healops.bench.gsi", "a 50-item DynamoDB GSI page, indexed vs plain moto"),
    "deploy": Bench("healops.bench.deploy", "from nothing to an applied, healthy stack, and a second apply"),
    "llm": Bench("healops.bench.llm", "LLM calls, prompt tokens and added latency per incident, per provider"),
    "nab": Bench("healops.bench.nab", "the detector scored on the Numenta Anomaly Benchmark by NAB's rules"),
    "rca": Bench("healops.bench.rca", "root-cause ranking on labelled fault injections: AC@1/3/5, Avg@5"),
    "prediction": Bench("healops.bench.prediction", "memory and disk exhaustion predicted how far ahead, how well"),
    "step-faults": Bench("healops.bench.step_faults", "every step fault on 8 services at every hour: detected?"),
    "fleet": Bench("healops.bench.fleet", "one metrics_generator tick for a 1,000-service fleet"),
    "detector": Bench("healops.bench.detector", "one detector tick over 1,000 services x 8 metrics"),
    "remediation": Bench("healops.bench.remediation", "MTTR per fault type, in ticks, through the deployed stack"),
    "remediation-sweep": Bench(
        "healops.bench.remediation_sweep", "every fault, service and time of day: remediated? (offline reasoner)"
    ),
    "chaos": Bench(
        "healops.bench.chaos",
        "the scored chaos benchmark: fault scenarios and control periods on the deployed stack",
        own_json=True,
    ),
    "snapshot": Bench("healops.bench.snapshot", "saving and restoring the embedded cloud's state: how long, how big"),
    "closed-loop": Bench("healops.bench.closed_loop", "detector and remediation together: fixed, and stayed fixed?"),
    "dashboard": Bench("healops.bench.dashboard", "p50/p95 of the dashboard's pages with 10,000 incidents"),
    "redaction": Bench("healops.bench.redaction", "secrets caught and look-alikes masked on the redaction corpus"),
}


def bench_list() -> str:
    width = max(map(len, BENCHES))
    lines = [f"  {name:<{width}}  {bench.summary}" for name, bench in sorted(BENCHES.items())]
    return "benchmarks:\n" + "\n".join(lines) + "\n\nhealops bench NAME --help: what NAME measures and its options."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="healops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"healops {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

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

    sub.add_parser("down", help="stop what healops up started (by its pid files, nothing else)")
    status = sub.add_parser("status", help="endpoint, deployment and each function's last invocation")
    add_target_arguments(status)
    status.add_argument("--json", action="store_true", help="the same as one JSON document on stdout")

    from healops.cli.inject import add_parser as add_inject_parser

    add_inject_parser(sub)

    from healops.cli.cost import add_parser as add_cost_parser

    add_cost_parser(sub)

    from healops.cli.dashboard import add_parser as add_dashboard_parser

    add_dashboard_parser(sub)

    bench = sub.add_parser(
        "bench",
        help="benchmarks that print figures (docs/benchmarks.md); --json on any of them",
        description="Benchmarks that print figures (docs/benchmarks.md).\n"
        "healops bench NAME --json prints them as one JSON document on stdout, the usual text going to stderr.",
        epilog=bench_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("name", choices=sorted(BENCHES), metavar="NAME", help="one of the benchmarks listed below")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="the benchmark's options (NAME --help lists them)")
    return parser


def run_bench(name: str, argv: list[str]) -> int:
    """Run one bench; with ``--json`` its figures go to stdout as one JSON document and its text to stderr."""
    module = importlib.import_module(BENCHES[name].module)
    if BENCHES[name].own_json or "--json" not in argv or "-h" in argv or "--help" in argv:
        return int(module.main(argv))
    from healops.bench.console import start_record, stop_record

    record = start_record()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            code = int(module.main(argv))
    finally:
        stop_record()
    json.dump({"bench": name, "argv": argv, "exit_code": code, **record.as_json()}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from healops.logs import redact_root_log_handlers

    redact_root_log_handlers()
    try:
        if args.command == "up":
            from healops.cli.up import run_up

            return run_up(args)
        if args.command == "down":
            from healops.cli.status import run_down

            return run_down()
        if args.command == "status":
            from healops.cli.status import run_status

            return run_status(args.endpoint_url, args.name_prefix, as_json=args.json)
        if args.command == "inject":
            from healops.cli.inject import run_inject

            return run_inject(args)
        if args.command == "cost":
            from healops.cli.cost import run_cost

            return run_cost(args)
        if args.command == "dashboard":
            from healops.cli.dashboard import run_dashboard

            return run_dashboard(args)
        if args.command == "bench":
            try:
                return run_bench(args.name, args.args)
            except FileNotFoundError as exc:
                # A bench's input (--data and the like) is missing: its message names it and the layout accepted.
                print(f"error: healops bench {args.name}: {exc}", file=sys.stderr)
                return 2
    except ModuleNotFoundError as exc:
        extra = EXTRAS_BY_MODULE.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"error: healops {args.command} needs {exc.name}, which this installation lacks: install the "
            f"{extra} extra (pip install 'healops[{extra}]', or 'healops[all]')",
            file=sys.stderr,
        )
        return 1
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
