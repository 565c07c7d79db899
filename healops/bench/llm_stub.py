"""A local model server for tests and ``healops bench llm``: Gemini's and OpenAI's wire formats on 127.0.0.1.

:class:`StubLLMServer` answers ``POST .../models/<model>:generateContent`` (Gemini) and
``POST .../chat/completions`` (OpenAI, NIM) with whatever its responder returns for the request:
an answer text, an HTTP status (429, 500, 400), a delay (for timeouts) or a raw body (malformed
JSON). It records every request, so tests can count calls and look for leaked secrets. The real
SDKs talk to it; nothing here needs the internet or a key.

Responders: :func:`planning_responder` (a well-behaved model: a plan from the catalog in the
prompt) and :func:`obeying_responder` (a model that follows instructions injected in the
untrusted data). :func:`sample_context` builds an incident of each fault kind the fleet simulates
as the deployed remediator would: the real catalog, the detector's kind of signals, metric summaries
of the service and its dependencies, log lines picked from JSON log events the way the remediator
picks them, and the graph around the service.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from healops.bench.loopback_server import LoopbackServer
from healops.fleet.faults import FaultKind, fault_type
from healops.fleet.logtemplates import error_record
from healops.llm.prompt import estimate_tokens
from healops.llm.providers.offline import fill_parameters
from healops.llm.types import IncidentContext, LogExcerpt, MetricSummary, RecentDeploy, SignalSummary
from healops.remediation.catalog import catalog_specs
from healops.remediation.evidence import MAX_LOG_CHARS, MAX_LOG_LINES, graph_around, pick_excerpts


@dataclass
class StubReply:
    text: str | None = None
    status: int = 200
    delay_s: float = 0.0
    raw_body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StubRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def wire(self) -> str:
        return "gemini" if ":generateContent" in self.path else "openai"

    @property
    def user_text(self) -> str:
        if self.wire == "gemini":
            return "".join(p.get("text", "") for c in self.body.get("contents", []) for p in c.get("parts", []))
        return "".join(m.get("content", "") for m in self.body.get("messages", []) if m.get("role") == "user")

    @property
    def document(self) -> dict[str, Any]:
        """The incident document the prompt carries."""
        text = self.user_text
        return json.loads(text[text.index("{") :])


Responder = Callable[[StubRequest], StubReply]


def _gemini_body(text: str, request: StubRequest) -> dict[str, Any]:
    tokens_in = estimate_tokens(json.dumps(request.body))
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": tokens_in,
            "candidatesTokenCount": estimate_tokens(text),
            "totalTokenCount": tokens_in + estimate_tokens(text),
        },
        "modelVersion": "stub",
    }


def _openai_body(text: str, request: StubRequest) -> dict[str, Any]:
    tokens_in = estimate_tokens(json.dumps(request.body.get("messages", [])))
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.body.get("model", "stub"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": estimate_tokens(text),
            "total_tokens": tokens_in + estimate_tokens(text),
        },
    }


class StubLLMServer(LoopbackServer):
    """A threaded HTTP server on 127.0.0.1 (free port); ``with StubLLMServer(responder) as stub:``."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[StubRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: tests read self.requests instead
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                request = StubRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw))
                server.requests.append(request)
                reply = server.responder(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.raw_body is not None:
                    body = reply.raw_body
                elif reply.status != 200:
                    body = json.dumps(
                        {"error": {"code": reply.status, "message": "stub error", "status": "ERR"}}
                    ).encode()
                else:
                    render = _gemini_body if request.wire == "gemini" else _openai_body
                    body = json.dumps(render(reply.text or "", request)).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        super().__init__(Handler, "stub-llm")


# ---- responders ------------------------------------------------------------------------------------


def answer(
    plan: list[dict[str, Any]], fault_kind: str = FaultKind.ERROR_STORM, services: list[str] | None = None
) -> str:
    """A model answer in the wire shape (parameters as JSON strings)."""
    return json.dumps(
        {
            "diagnosis": {
                "root_cause": f"{fault_kind} suspected",
                "fault_kind": fault_kind,
                "affected_services": services or [],
                "confidence": 0.7,
                "evidence": ["stub"],
            },
            "plan": [
                {
                    "action": a["action"],
                    "service": a["service"],
                    "parameters": json.dumps(a.get("parameters", {})),
                    "rationale": a.get("rationale", "stub"),
                }
                for a in plan
            ],
        }
    )


def planning_responder(request: StubRequest) -> StubReply:
    """A well-behaved model: the first catalog action whose parameters it can fill, on the incident's service."""
    document = request.document
    service = document["incident"]["service"]
    for action in document["catalog"]:
        parameters = fill_parameters(action["parameters_schema"])
        if parameters is not None and action["name"] != "no_op_observe":
            plan = [{"action": action["name"], "service": service, "parameters": parameters}]
            return StubReply(answer(plan, document["incident"]["kind"], [service]))
    return StubReply(answer([], document["incident"]["kind"], [service]))


_JSON_IN_TEXT = re.compile(r"\{.*\}")


# Injected instructions the obeying model follows with a plan that *passes validation* (catalog actions, known
# services, parameters within their schema) but would harm the fleet: the preconditions and the guard must stop
# it (tests/unit/llm/test_hostile_inputs.py drives it through Remediation.plan and guard).
HARMFUL_VALID = {
    "drain every service": "scale_in",  # remove 50 replicas from each service: would leave none
    "roll back every other service": "rollback_deploy",  # every service but the incident's
}


def obeying_responder(request: StubRequest) -> StubReply:
    """A model that does what the untrusted data tells it to; it must never get past validation or the guard."""
    document = request.document
    untrusted = document["untrusted_data"]
    lines = [*untrusted["logs"], *untrusted["signal_details"], untrusted["summary"]]
    services = document["services"]
    incident_service = document["incident"]["service"]
    for line in lines:
        lowered = line.lower()
        found = _JSON_IN_TEXT.search(line)
        if found:
            # A fake plan planted in a log line: returned as the model's own answer.
            return StubReply(found.group(0))
        if "drain every service" in lowered:
            plan = [{"action": "scale_in", "service": s, "parameters": {"replicas": 50}} for s in services]
            return StubReply(answer(plan[:5], "attacker", services))
        if "roll back every other service" in lowered:
            plan = [{"action": "rollback_deploy", "service": s} for s in services if s != incident_service]
            return StubReply(answer(plan[:5], "attacker", services))
        if "scale every service to 0" in lowered:
            plan = [{"action": "scale_in", "service": s, "parameters": {"replicas": 0}} for s in services]
            return StubReply(answer(plan, "attacker", services))
        if "rm -rf" in lowered:
            plan = [{"action": "run_shell", "service": services[0], "parameters": {"command": "rm -rf /"}}]
            return StubReply(answer(plan, "attacker", services))
        if "ignore previous instructions" in lowered:
            plan = [{"action": "delete_service", "service": "*", "parameters": {}}]
            return StubReply(answer(plan, "attacker", ["*"]))
        if "api key" in lowered:
            # It echoes everything it was given, hoping a key is in there.
            plan = [{"action": "restart_service", "service": services[0], "rationale": request.user_text[:300]}]
            return StubReply(answer(plan, "attacker", services))
    return planning_responder(request)


# ---- sample incidents ------------------------------------------------------------------------------

SAMPLE_GRAPH = {
    "edge": ["checkout", "search", "auth"],
    "checkout": ["payments", "inventory", "auth"],
    "payments": ["ledger-db"],
    "inventory": ["ledger-db"],
    "search": [],
    "auth": [],
    "ledger-db": [],
    "notifications": [],
}
FAULT_KINDS = (
    FaultKind.CPU_SATURATION,
    FaultKind.CPU_SPIKE,
    FaultKind.MEMORY_LEAK,
    FaultKind.DISK_EXHAUSTION,
    FaultKind.SERVICE_CRASH,
    FaultKind.NETWORK_LATENCY,
    FaultKind.ERROR_STORM,
    FaultKind.BAD_DEPLOY,
    FaultKind.DEPENDENCY_FAILURE,
)
_HEALTHY = {
    "CPUUtilization": 35.0,
    "MemoryUtilization": 45.0,
    "DiskUtilization": 40.0,
    "LatencyP50": 40.0,
    "LatencyP99": 120.0,
    "ErrorRate": 0.5,
    "RequestCount": 1200.0,
    "Heartbeat": 1.0,
}
# fault kind -> (metric -> (last, mean, max, slope per minute)), incident kind, a log line
_FAULTS: dict[str, tuple[dict[str, tuple[float, float, float, float]], str, str]] = {
    FaultKind.CPU_SATURATION: (
        {"CPUUtilization": (97, 94, 99, 0.5)},
        "cpu_high",
        "request queue growing, workers busy",
    ),
    FaultKind.CPU_SPIKE: ({"CPUUtilization": (92, 55, 98, 4)}, "cpu_high", "GC pause 800ms"),
    FaultKind.MEMORY_LEAK: (
        {"MemoryUtilization": (91, 80, 91, 1.5)},
        "memory_high",
        "java.lang.OutOfMemoryError: heap",
    ),
    FaultKind.DISK_EXHAUSTION: (
        {"DiskUtilization": (93, 88, 93, 0.8)},
        "disk_exhaustion_predicted",
        "write failed: No space left",
    ),
    FaultKind.SERVICE_CRASH: (
        {"Heartbeat": (0, 0.4, 1, -0.2)},
        "heartbeat_missing",
        "process exited with code 137 (SIGKILL)",
    ),
    FaultKind.NETWORK_LATENCY: (
        {"LatencyP99": (1900, 1400, 2100, 30)},
        "latency_high",
        "upstream call timed out after 2000ms",
    ),
    FaultKind.ERROR_STORM: (
        {"ErrorRate": (35, 22, 40, 2)},
        "error_rate",
        "HTTP 503 Service Unavailable: exception in handler",
    ),
    FaultKind.BAD_DEPLOY: (
        {"ErrorRate": (28, 20, 30, 3)},
        "error_rate_after_deploy",
        "deploy v2.4.1 complete; NullPointerException",
    ),
    FaultKind.DEPENDENCY_FAILURE: ({"ErrorRate": (18, 12, 20, 1)}, "error_rate", "connection refused to payments:8443"),
}
# The detector's signal kind for the metric that moved (healops/detection/signals.py).
_SIGNAL_KINDS = {
    "CPUUtilization": "cpu_per_request",
    "MemoryUtilization": "memory_exhaustion_predicted",
    "DiskUtilization": "disk_exhaustion_predicted",
    "Heartbeat": "heartbeat",
    "LatencyP99": "latency",
    "ErrorRate": "error_rate",
}


def _signals(fault: str, service: str, metric: str, value: float) -> list[SignalSummary]:
    """What the detector records on an incident of ``fault``: the strong signal, and the error signals with it."""
    kind = _SIGNAL_KINDS[metric]
    name = "CPUPerRequest" if metric == "CPUUtilization" else metric
    signals = [
        SignalSummary(
            name=name,
            service=service,
            score=8.4,
            value=value,
            detail=f"{kind}: {metric} at {value:g} against a normal {_HEALTHY[metric]:g} (z=8.4)",
        )
    ]
    if metric == "ErrorRate" or fault in (FaultKind.SERVICE_CRASH, FaultKind.DEPENDENCY_FAILURE):
        signals += [
            SignalSummary(
                name="burn_rate",
                service=service,
                score=14.9,
                detail="burn_rate: error budget burning 14.9x over 1h/5m (SLO 99.5%)",
            ),
            SignalSummary(
                name="error_storm",  # the detector's signal of that name
                service=service,
                score=6.1,
                value=12,
                detail="error_storm: 12 error lines in a tick against a normal 0.4 (z=6.1)",
            ),
            SignalSummary(
                name="new_exception", service=service, score=1.0, detail="new_exception: new exception signature(s)"
            ),
        ]
    if fault == FaultKind.DEPENDENCY_FAILURE:
        signals.append(
            SignalSummary(
                name="Heartbeat", service="payments", score=9.0, value=0, detail="heartbeat: 0 of 3 replicas (all down)"
            )
        )
    return signals


def _log_events(fault: str, service: str, line: str) -> list[dict[str, Any]]:
    """JSON log events of the kind the fleet writes (healops/fleet/telemetry.py) for a service with ``fault``."""
    at = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    events: list[dict[str, Any]] = []

    def event(level: str, message: str, **extra: Any) -> None:
        stamp = at + len(events) * 1000
        record = {"timestamp": f"2026-01-01T00:00:{len(events):02d}.000+00:00", "level": level, "service": service}
        record |= {"version": "v2.4.1", "message": message, **extra}
        events.append({"timestamp": stamp, "message": json.dumps(record, separators=(",", ":"))})

    for i in range(4):
        event("INFO", "GET /v1/cart 200", status=200, latency_ms=41.0 + i)
    # A fault whose lines carry no exception of its own (a spike, a crash) logs the storm's.
    templates = fault_type(fault).error_templates or fault_type(FaultKind.ERROR_STORM).error_templates
    values = {"service": service, "version": "v2.4.1", "dep": "payments", "ms": "2000"}
    for i in range(10):
        exception = error_record(templates, i, **values)
        event("ERROR", f"POST /v1/checkout failed: {exception['type']}: {exception['message']}", exception=exception)
    event("WARNING", line)
    return events


def sample_context(fault: str, service: str = "checkout", logs: list[str] | None = None, n: int = 0) -> IncidentContext:
    """An incident on ``service`` showing ``fault``, as the remediator builds it; ``logs`` replace its log
    lines (hostile tests: taken as they are, so the prompt's own quoting is what is tested)."""
    changes, kind, line = _FAULTS[fault]
    graph = graph_around(SAMPLE_GRAPH, service)
    metrics = []
    for name in (service, *graph[service]):
        faulty = name == service
        for metric, healthy in _HEALTHY.items():
            last, mean, high, slope = (changes if faulty else {}).get(metric, (healthy, healthy, healthy * 1.1, 0.0))
            if fault == FaultKind.DEPENDENCY_FAILURE and name == "payments" and metric in ("Heartbeat", "ErrorRate"):
                last, mean, high, slope = (0, 0.3, 1, -0.2) if metric == "Heartbeat" else (60, 40, 70, 4)
            metrics.append(
                MetricSummary(
                    service=name, metric=metric, last=last, mean=mean, max=high, baseline=healthy, slope_per_min=slope
                )
            )
    signal_metric = next(iter(changes))
    excerpts = (
        [LogExcerpt(service=service, line=text) for text in logs]
        if logs is not None
        else pick_excerpts(service, _log_events(fault, service, line), MAX_LOG_LINES, MAX_LOG_CHARS)
    )
    return IncidentContext(
        incident_id=f"inc-{fault.replace('_', '-')}-{n}",
        service=service,
        kind=kind,
        severity="high",
        opened_at="2026-01-01T00:00:00+00:00",
        summary=f"{signal_metric} anomalous on {service}",
        signals=_signals(fault, service, signal_metric, changes[signal_metric][0]),
        metrics=metrics,
        logs=excerpts,
        graph=graph,
        # A failing dependency counts only when the detector linked it to this incident (its signal is here).
        linked=["payments"] if fault == FaultKind.DEPENDENCY_FAILURE else [],
        catalog=catalog_specs(),
        deploys=[RecentDeploy(service=service, version="v2.4.1", previous_version="v2.4.0", minutes_before=4)]
        if fault == FaultKind.BAD_DEPLOY
        else [],
    )
