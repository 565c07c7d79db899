"""``healops cost``: what the stack costs on AWS per month and per watched service-month (healops/cost.py)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from healops.cost import PRICES_AS_OF, Workload, estimate
from healops.detection.schedule import DEFAULT_READ_EVERY_TICKS, MAX_READ_EVERY_TICKS


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not accepted: at least 1")
    return value


def read_every(text: str) -> int:
    value = positive_int(text)
    if value > MAX_READ_EVERY_TICKS:
        raise argparse.ArgumentTypeError(f"{value} is not accepted: 1 to {MAX_READ_EVERY_TICKS} ticks")
    return value


def add_parser(sub: Any) -> None:
    cost = sub.add_parser("cost", help="the AWS bill of the stack, per month and per watched service-month")
    cost.add_argument("--services", type=positive_int, default=1_000, help="watched services (default 1000)")
    cost.add_argument(
        "--tick-seconds", type=positive_int, default=60, help="the tick schedule's period (default 60: rate(1 minute))"
    )
    cost.add_argument(
        "--read-every",
        type=read_every,
        default=DEFAULT_READ_EVERY_TICKS,
        metavar="N",
        help=f"the detector reads the metrics every N ticks (detector_read_every_ticks; default "
        f"{DEFAULT_READ_EVERY_TICKS}, 1 to {MAX_READ_EVERY_TICKS})",
    )
    cost.add_argument(
        "--incidents-per-service-month", type=float, default=2.0, help="incidents a service a month (default 2)"
    )
    cost.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_cost(args: argparse.Namespace) -> int:
    result = estimate(
        Workload(
            services=args.services,
            tick_seconds=args.tick_seconds,
            read_every_ticks=args.read_every,
            incidents_per_service_month=args.incidents_per_service_month,
        )
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0
    table = Table(
        "item",
        "quantity / month",
        "$ / month",
        "$ / service-month",
        title=f"{args.services:,} services, a tick every {args.tick_seconds} s, the metrics read every "
        f"{args.read_every} ticks (list prices {PRICES_AS_OF})",
    )
    for line in result.lines:
        table.add_row(
            line.item,
            f"{line.quantity:,.0f} {line.unit}",
            f"{line.monthly_usd:,.2f}",
            f"{line.per_service_month_usd:.4f}",
        )
    table.add_row("total", "", f"{result.monthly_usd:,.2f}", f"{result.per_service_month_usd:.4f}", style="bold")
    Console().print(table)
    return 0
