"""``healops bench invoke``: cold and warm Lambda invoke latency against a plain API call.

Without ``--endpoint`` it starts an in-process embedded cloud with the Lambda runtime on a
free port. It creates a tiny python3.11 function, times the first invoke (worker spawn
included), then ``--n`` sequential warm invokes and, as the floor, ``--n`` ``GetFunction``
calls on the same server, all through one reused boto3 client.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from healops import aws
from healops.bench.cli import bench_parser
from healops.bench.console import bench_console

HANDLER = "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"


def _client(endpoint_url: str, service: str) -> Any:
    return aws.client(service, endpoint_url=endpoint_url, region="us-east-1", max_attempts=1)


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _percentile(samples_ms: list[float], fraction: float) -> float:
    ordered = sorted(samples_ms)
    return ordered[min(round(fraction * (len(ordered) - 1)), len(ordered) - 1)]


def _time_calls(call: Callable[[], Any], n: int) -> list[float]:
    samples: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(endpoint_url: str, n: int) -> dict[str, Any]:
    """Measure on ``endpoint_url``; returns the figures in milliseconds."""
    lam = _client(endpoint_url, "lambda")
    role = _client(endpoint_url, "iam").create_role(
        RoleName=f"bench-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    name = f"bench-invoke-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip(HANDLER)},
    )
    payload = b'{"n": 1}'

    def invoke() -> None:
        response = lam.invoke(FunctionName=name, Payload=payload)
        response["Payload"].read()
        if "FunctionError" in response:
            raise RuntimeError(f"the benchmark function failed: {response['FunctionError']}")

    started = time.perf_counter()
    invoke()
    cold_ms = (time.perf_counter() - started) * 1000
    _time_calls(invoke, min(20, n))  # settle: connection pool, caches
    warm = _time_calls(invoke, n)
    floor = _time_calls(lambda: lam.get_function(FunctionName=name), n)
    with contextlib.suppress(Exception):  # cleanup only; the figures are already taken
        lam.delete_function(FunctionName=name)
    return {
        "cold_ms": cold_ms,
        "warm_p50_ms": _percentile(warm, 0.5),
        "warm_p95_ms": _percentile(warm, 0.95),
        "warm_mean_ms": statistics.fmean(warm),
        "floor_p50_ms": _percentile(floor, 0.5),
        "floor_p95_ms": _percentile(floor, 0.95),
        "n": n,
    }


def render(figures: dict[str, Any], endpoint_url: str, console: Console | None = None) -> None:
    console = console or bench_console()
    table = Table(title=f"Lambda invoke latency, {figures['n']} sequential calls, {endpoint_url}")
    table.add_column("measure")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_row("cold start (first invoke, worker spawn)", f"{figures['cold_ms']:.1f}", "")
    table.add_row("warm invoke", f"{figures['warm_p50_ms']:.2f}", f"{figures['warm_p95_ms']:.2f}")
    table.add_row("floor: GetFunction", f"{figures['floor_p50_ms']:.2f}", f"{figures['floor_p95_ms']:.2f}")
    console.print(table)
    ratio = figures["warm_p50_ms"] / figures["floor_p50_ms"] if figures["floor_p50_ms"] else float("nan")
    console.print(
        f"warm p50 / floor p50 = {ratio:.2f}  (target: warm p50 under 5 ms; "
        "anchors: plain moto call over HTTP ~2.7 ms, LocalStack warm invoke ~10 ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("invoke", __doc__)
    parser.add_argument("--endpoint", help="an endpoint already running (default: start one in process)")
    parser.add_argument("--n", type=int, default=500, help="warm invokes and floor calls to time (default 500)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}")
    with ExitStack() as stack:
        endpoint = args.endpoint
        if endpoint is None:
            from healops.local.awslambda import LambdaRuntime
            from healops.local.context import EmbeddedContext
            from healops.local.server import EmbeddedCloud

            state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="healops-bench-")))
            cloud = stack.enter_context(
                EmbeddedCloud(EmbeddedContext(port=0, state_dir=state_dir), extensions=[LambdaRuntime()])
            )
            endpoint = cloud.endpoint_url
        figures = run(endpoint, args.n)
        render(figures, endpoint)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
