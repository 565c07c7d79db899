"""What the deployed planner sees: the signals that opened the incident, a few of the service's log lines (errors
first, bounded, redacted, quoted as data) and the graph around the service, within a compact prompt."""

from __future__ import annotations

import json
import time
from pathlib import Path

import hcl2
from hcl2 import SerializationOptions

from healops.bench.llm_stub import StubLLMServer, planning_responder
from healops.llm.prompt import build_prompt
from healops.llm.redaction import Redactor
from healops.remediation.evidence import MAX_LOG_CHARS, MAX_LOG_LINES, ServiceLogs, graph_around, pick_excerpts
from healops.store.incidents import IncidentsRepository
from tests.unit.llm.deployed import MotoStack, error_signals, use_stub

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
EMAIL = "oncall.person@example.com"
TERRAFORM_DIR = Path(__file__).resolve().parents[3] / "terraform"


def record(level: str, message: str, **extra: object) -> dict[str, object]:
    return {"timestamp": "2026-01-01T00:00:00.000+00:00", "level": level, "service": "checkout", "message": message} | (
        extra
    )


def checkout_logs(stack: MotoStack) -> None:
    now = time.time()
    stack.write_logs("checkout", [record("ERROR", "stale: from an hour ago")], at=now - 3600)
    stack.write_logs(
        "checkout",
        [record("INFO", f"GET /v1/cart 200 ({i})") for i in range(20)]
        + [record("WARNING", "GET /v1/cart 499: client closed request")]
        + [
            record(
                "ERROR",
                f"POST /v1/checkout failed: psycopg.OperationalError: connection {i} refused",
                exception={"type": "psycopg.OperationalError", "message": "refused"},
            )
            for i in range(8)
        ]
        + [record("ERROR", f"auth failed for {EMAIL} with key {AWS_KEY}")]
        + [record("ERROR", "payload rejected: " + "x" * 5000)]
        + [record("ERROR", "POST /v1/checkout failed", exception={"type": "redis.exceptions.ConnectionError"})],
        at=now - 2,
    )
    stack.write_logs("payments", [record("ERROR", "payments' own error, not checkout's")], at=now - 2)


def test_the_planner_sees_the_signals_error_lines_and_the_graph_around_the_incident(moto_stack: MotoStack) -> None:
    checkout_logs(moto_stack)
    signals = [*error_signals("checkout"), {**error_signals("edge")[0], "strong": False, "score": 3.0}]
    incident = moto_stack.open_incident("inc-ctx-1", "checkout", "error_rate", signals)
    engine = moto_stack.engine()
    context = engine.context(incident, IncidentsRepository("incidents", moto_stack.dynamodb).get("inc-ctx-1"))

    # The signals and scores that opened it, strongest first, named by metric (or by detector kind).
    assert [(s.name, s.service, s.score) for s in context.signals] == [
        ("ErrorRate", "checkout", 9.3),
        ("error_storm", "checkout", 5.2),
        ("ErrorRate", "edge", 3.0),
    ]
    assert context.signals[0].detail.startswith("error_rate: error rate 31.0%")
    # Dependencies and dependents (edge calls checkout), with their edges among them.
    assert context.graph == {
        "checkout": ["payments", "inventory", "auth", "notifications"],
        "payments": ["auth"],
        "inventory": [],
        "auth": [],
        "notifications": [],
        "edge": ["checkout", "auth"],
    }
    # A few lines from around the opening: errors first (one per message shape: the 8 connection errors are one),
    # then the warning, then the newest request line; bounded, redacted; oldest first, as logs read.
    lines = [log.line for log in context.logs]
    assert len(lines) == MAX_LOG_LINES
    assert [line.split(" ")[0] for line in lines] == ["INFO", "WARNING", "ERROR", "ERROR", "ERROR", "ERROR"]
    assert lines[0] == "INFO GET /v1/cart 200 (19)"
    assert all(len(line) <= MAX_LOG_CHARS for line in lines)
    assert sum("psycopg.OperationalError: connection" in line for line in lines) == 1
    assert lines[-1] == "ERROR POST /v1/checkout failed (redis.exceptions.ConnectionError)"  # its type is kept
    assert not any("stale" in line or "payments' own" in line or AWS_KEY in line or EMAIL in line for line in lines)
    assert any("auth failed for [REDACTED] with key [REDACTED]" in line for line in lines)

    prompt = build_prompt(context, Redactor())
    document = json.loads(prompt.user[prompt.user.index("{") :])
    assert prompt.estimated_tokens < 4000
    assert document["depends_on"]["edge"] == ["checkout", "auth"] and "edge" in document["services"]
    assert [s["name"] for s in document["signals"]] == ["ErrorRate", "error_storm", "ErrorRate"]
    assert document["untrusted_data"]["logs"][2].startswith("checkout: ERROR POST /v1/checkout failed: psycopg")


def test_the_plan_step_sends_them_to_the_model(moto_stack: MotoStack, monkeypatch) -> None:
    checkout_logs(moto_stack)
    incident = moto_stack.open_incident("inc-ctx-2", "checkout", "error_rate", error_signals("checkout"))
    with StubLLMServer(planning_responder) as server:
        use_stub(monkeypatch, "openai", server.url)
        run = moto_stack.engine().plan(incident)
        [request] = server.requests
    document = request.document
    assert run.planner.startswith("openai:") and run.candidates[0].service == "checkout"
    assert document["signals"][0] == {"name": "ErrorRate", "service": "checkout", "score": 9.3, "value": 31.0}
    assert any("psycopg.OperationalError" in line for line in document["untrusted_data"]["logs"])
    assert "edge" in document["depends_on"]
    assert AWS_KEY not in json.dumps(request.body) and EMAIL not in json.dumps(request.body)


def test_a_service_without_a_log_group_is_planned_without_log_lines(moto_stack: MotoStack) -> None:
    moto_stack.logs.delete_log_group(logGroupName="/healops/services/search")
    assert ServiceLogs(moto_stack.logs).excerpts("search", time.time() - 60, time.time()) == []
    incident = moto_stack.open_incident("inc-ctx-3", "search", "error_rate", error_signals("search"))
    run = moto_stack.engine().plan(incident)
    assert run.candidates and run.planner == "offline:rules-v1"


def test_excerpts_rank_errors_then_warnings_newest_first_and_read_as_logs_do() -> None:
    events = [
        {"timestamp": 1, "message": json.dumps({"level": "INFO", "message": "ok"})},
        {"timestamp": 2, "message": json.dumps({"level": "ERROR", "message": "timeout after 100 ms"})},
        {"timestamp": 3, "message": "plain text WARNING disk 91% full"},
        {"timestamp": 4, "message": json.dumps({"level": "ERROR", "message": "timeout after 250 ms"})},
        {"timestamp": 5, "message": json.dumps({"level": "ERROR", "message": "ConnectionError to db"})},
        {"timestamp": 6, "message": "{not json"},
    ]
    picked = pick_excerpts("checkout", events, max_lines=3, max_chars=400)
    # The two timeouts are one message shape: the newer is kept; then the warning; oldest first on return.
    assert [p.line for p in picked] == [
        "plain text WARNING disk 91% full",
        "ERROR timeout after 250 ms",
        "ERROR ConnectionError to db",
    ]


def test_the_graph_around_a_leaf_is_its_callers() -> None:
    graph = {"edge": ["checkout"], "checkout": ["ledger-db"], "payments": ["ledger-db"], "ledger-db": []}
    assert graph_around(graph, "ledger-db") == {"ledger-db": [], "checkout": ["ledger-db"], "payments": ["ledger-db"]}


def test_the_planners_policy_reads_exactly_the_service_log_groups() -> None:
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    with (TERRAFORM_DIR / "iam.tf").open() as fp:
        parsed = hcl2.load(fp, serialization_options=options)
    catalogue = {k: v for entry in parsed["locals"] for k, v in entry.items()}["function_policy_statements"]
    logs = [s for s in catalogue["planner"] if any(a.startswith("logs:") for a in s["actions"])]
    assert [(s["actions"], s["resources"]) for s in logs] == [
        (["logs:FilterLogEvents"], "${local.service_log_group_arns}")
    ]
