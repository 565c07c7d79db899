"""``healops bench llm``: LLM calls, prompt tokens and added latency per incident plan, per provider.

Each provider (offline, and gemini / openai / nim through their real SDKs) plans one incident
of every fault kind the fleet simulates, ``--rounds`` times, against the local stub server
(:mod:`healops.bench.llm_stub`, a well-behaved model that answers at once, plus ``--model-delay-ms``
to stand in for a model's own thinking time). The incidents are what the deployed remediator builds:
the real catalog, the detector's signals, metric summaries of the service and its dependencies, log
lines picked from JSON log events, the graph around the service. Figures: model requests per incident
(counted at the stub), prompt tokens per incident (estimated, ~4 characters a token), and the latency
a plan adds (p50 / p95 of the whole ``Reasoner.plan``: prompt, SDK, HTTP, validation, audit in memory).
Then, with ``--hung-deadline-s``, each provider against a model that never answers, with the default
per-request timeout and retries and that deadline (a 3 s Lambda's): how long until the offline plan.
"""

from __future__ import annotations

import statistics
import time

from rich.table import Table

from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.bench.llm_stub import (
    FAULT_KINDS,
    StubLLMServer,
    StubReply,
    StubRequest,
    planning_responder,
    sample_context,
)
from healops.fleet.faults import FaultKind
from healops.llm import MemoryAuditTrail, Reasoner
from healops.llm.prompt import build_prompt
from healops.llm.redaction import Redactor
from healops.llm.settings import LLMSettings

PROVIDERS = ("offline", "gemini", "openai", "nim")


def _settings(provider: str, url: str) -> LLMSettings:
    if provider == "offline":
        return LLMSettings(provider="offline")
    return LLMSettings(
        provider=provider,
        gemini_api_key="bench-key-not-real-000",
        gemini_base_url=url,
        openai_api_key="bench-key-not-real-000",
        openai_base_url=f"{url}/v1",
        nvidia_api_key="bench-key-not-real-000",
        nim_base_url=f"{url}/v1",
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("llm", __doc__)
    parser.add_argument("--rounds", type=int, default=5, help="plans per fault kind and provider (default 5)")
    parser.add_argument("--model-delay-ms", type=float, default=0.0, help="stub model thinking time (default 0)")
    parser.add_argument(
        "--hung-deadline-s", type=float, default=3.0, help="deadline against a model that never answers (0: skip)"
    )
    args = parser.parse_args(argv)

    delay = args.model_delay_ms / 1000

    def respond(request: StubRequest) -> StubReply:
        return StubReply(text=planning_responder(request).text, delay_s=delay)

    contexts = [sample_context(f) for f in FAULT_KINDS]
    tokens = [build_prompt(c, Redactor()).estimated_tokens for c in contexts]
    table = Table(title=f"reasoner per incident ({len(FAULT_KINDS)} fault kinds x {args.rounds} rounds)")
    for column in ("provider", "plans", "model requests / incident", "prompt tokens / incident", "fallbacks"):
        table.add_column(column, justify="right")
    table.add_column("added latency p50 / p95 (ms)", justify="right")
    with StubLLMServer(respond) as server:
        for provider in PROVIDERS:
            reasoner = Reasoner.from_settings(_settings(provider, server.url), MemoryAuditTrail())
            before = len(server.requests)
            latencies, fallbacks, prompt_tokens = [], 0, []
            for round_ in range(args.rounds):
                for fault in FAULT_KINDS:
                    outcome = reasoner.plan(sample_context(fault, n=round_))
                    latencies.append(outcome.latency_ms)
                    prompt_tokens.append(outcome.prompt_tokens)
                    fallbacks += outcome.fallback_reason is not None
            plans = len(latencies)
            table.add_row(
                provider,
                str(plans),
                f"{(len(server.requests) - before) / plans:.2f}",
                f"{statistics.mean(prompt_tokens):.0f}",
                str(fallbacks),
                f"{percentile(latencies, 0.5):.1f} / {percentile(latencies, 0.95):.1f}",
            )
    console = bench_console()
    console.print(table)
    console.print(
        f"prompt tokens by fault kind (estimated): min {min(tokens)}, max {max(tokens)}; per incident "
        f"{len(contexts[0].catalog)} catalog actions, {min(len(c.signals) for c in contexts)} to "
        f"{max(len(c.signals) for c in contexts)} signals, {min(len(c.logs) for c in contexts)} to "
        f"{max(len(c.logs) for c in contexts)} log lines, {min(len(c.metrics) for c in contexts)} to "
        f"{max(len(c.metrics) for c in contexts)} metric summaries, {len(contexts[0].graph)} services in the graph"
    )
    if args.hung_deadline_s > 0:
        console.print(_hung(args.hung_deadline_s))
    return 0


def _hung(deadline_s: float) -> Table:
    """Each provider against a model that never answers: the time until the offline plan, and why."""
    table = Table(title=f"a hung model, default timeout and retries, a {deadline_s:g} s deadline")
    for column in ("provider", "plan returned after (s)", "planned by", "requests", "fallback reason"):
        table.add_column(column)

    def never(request: StubRequest) -> StubReply:
        return StubReply(text=planning_responder(request).text, delay_s=120.0)

    with StubLLMServer(never) as server:
        for provider in PROVIDERS[1:]:
            reasoner = Reasoner.from_settings(_settings(provider, server.url), MemoryAuditTrail())
            before = len(server.requests)
            started = time.monotonic()
            outcome = reasoner.plan(sample_context(FaultKind.ERROR_STORM, n=999), started + deadline_s)
            table.add_row(
                provider,
                f"{time.monotonic() - started:.2f}",
                outcome.provider,
                str(len(server.requests) - before),
                outcome.fallback_reason or "",
            )
    return table
