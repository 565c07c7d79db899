"""healops inject: the injector of the running stack, from the command line.

    healops inject SERVICE FAULT [--param k=v ...] [--duration S]   inject a fault
    healops inject --clear SERVICE [FAULT]                          clear one fault, or all of them
    healops inject --list                                           fault catalog, parameters, services
    healops inject --status [SERVICE]                               a service's (or the fleet's) state

Each form sends one payload to the deployed injector function (the same one
`awslocal lambda invoke --function-name injector` reaches) and prints its JSON answer (--json: plain,
uncoloured, for scripts). A refusal (FunctionError) prints the function's message to stderr and exits 1.
The stack is the one healops up started here, or the one at --endpoint-url (or $AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from rich.console import Console

from healops import aws
from healops.cli.target import add_target_arguments, resolve_target
from healops.fleet.faults import FAULTS

console = Console()
err_console = Console(stderr=True)


def add_parser(sub: Any) -> None:
    inject = sub.add_parser(
        "inject",
        help="inject, clear, list or show faults in the running stack's simulated fleet",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = inject.add_mutually_exclusive_group()
    mode.add_argument("--clear", action="store_true", help="clear FAULT (or every fault) on SERVICE")
    mode.add_argument("--list", action="store_true", help="the fault catalog with parameter schemas, and services")
    mode.add_argument("--status", action="store_true", help="SERVICE's state, or the fleet's without SERVICE")
    inject.add_argument("service", nargs="?", help="a fleet service, e.g. checkout")
    inject.add_argument("fault", nargs="?", help="a fault from --list, e.g. memory_leak")
    inject.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="a fault parameter (repeatable); V is JSON or text"
    )
    inject.add_argument("--duration", type=int, metavar="S", help="seconds until the fault ends by itself")
    inject.add_argument("--json", action="store_true", help="the injector's answer as plain JSON (no colour)")
    add_target_arguments(inject)


def takes_text(fault: str | None, key: str) -> bool:
    """Whether ``fault``'s parameter ``key`` is a string in the catalog (the injector types params strictly)."""
    kind = FAULTS.get(fault or "")
    field = kind.params.model_fields.get(key) if kind is not None else None
    return field is not None and field.annotation not in (int, float)


def parse_param(raw: str, fault: str | None = None) -> tuple[str, Any]:
    """``K=V`` as a parameter: V is JSON (``40``, ``0.3``, ``true``) or, failing that, text.

    A string parameter of the fault (``bad_deploy``'s ``version``) keeps V as typed, so
    ``version=2`` is the text "2" rather than a number the injector would refuse.
    """
    key, sep, value = raw.partition("=")
    if not sep or not key:
        raise ValueError(f"--param: expected K=V, got {raw!r}")
    if takes_text(fault, key) and not value.startswith('"'):
        return key, value
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def build_payload(args: argparse.Namespace, who: str) -> dict[str, Any]:
    """The injector payload the arguments ask for; a usage error is a ValueError naming the argument."""
    if args.list:
        return {"action": "list"}
    if args.status:
        return {"action": "status", **({"service": args.service} if args.service else {})}
    if not args.service:
        raise ValueError("SERVICE is required (see `healops inject --list` for the services)")
    if args.clear:
        return {
            "action": "clear",
            "service": args.service,
            "requested_by": who,
            **({"fault": args.fault} if args.fault else {}),
        }
    if not args.fault:
        raise ValueError("FAULT is required to inject (see `healops inject --list` for the faults)")
    payload: dict[str, Any] = {
        "action": "inject",
        "service": args.service,
        "fault": args.fault,
        "params": dict(parse_param(p, args.fault) for p in args.param),
        "requested_by": who,
    }
    if args.duration is not None:
        payload["duration_s"] = args.duration
    return payload


def run_inject(args: argparse.Namespace) -> int:
    try:
        payload = build_payload(args, f"cli:{getpass.getuser()}")
    except ValueError as exc:
        err_console.print(f"error: {exc}")
        return 2
    target = resolve_target(args.endpoint_url, args.name_prefix)  # no stack: a DeployError, one line on stderr
    function = target.function_names.get("injector", "injector")
    lam = aws.client("lambda", endpoint_url=target.endpoint_url)
    response = lam.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read() or b"null")
    if "FunctionError" in response:
        message = body.get("errorMessage", body) if isinstance(body, dict) else body
        err_console.print(f"error: {message}")
        return 1
    if args.json:
        json.dump(body, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        console.print_json(json.dumps(body))
    return 0
