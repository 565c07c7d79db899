"""The real google-genai and openai SDKs against a local stub: happy path, 429, 500, timeouts, bad answers."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from healops.bench.llm_stub import StubLLMServer, StubReply, StubRequest, answer, planning_responder, sample_context
from healops.llm import MemoryAuditTrail, Reasoner
from tests.unit.llm.conftest import GEMINI_KEY, NVIDIA_KEY, OPENAI_KEY, PROVIDERS, settings_for

Stub = Callable[[Callable[[StubRequest], StubReply]], StubLLMServer]
CONTEXT = sample_context("disk_exhaustion")


def plan_with(provider: str, server: StubLLMServer, **overrides: object):
    audit = MemoryAuditTrail()
    outcome = Reasoner.from_settings(settings_for(provider, server.url, **overrides), audit).plan(CONTEXT)
    return outcome, audit


def scripted(*replies: StubReply) -> Callable[[StubRequest], StubReply]:
    """Replies in order, the last one repeated; a None text means "answer like a good model"."""
    sequence = itertools.chain(replies, itertools.repeat(replies[-1]))

    def respond(request: StubRequest) -> StubReply:
        reply = next(sequence)
        if reply.status == 200 and reply.text is None and reply.raw_body is None:
            return StubReply(text=planning_responder(request).text, delay_s=reply.delay_s)
        return reply

    return respond


@pytest.mark.parametrize("provider", PROVIDERS)
def test_one_call_on_the_happy_path_with_the_key_in_a_header_only(provider: str, stub: Stub) -> None:
    server = stub(planning_responder)
    outcome, audit = plan_with(provider, server)
    assert (outcome.provider, outcome.fallback_reason, outcome.llm_calls) == (provider, None, 1)
    assert outcome.plan.actions[0].action == "restart_service"
    [request] = server.requests
    key = {"gemini": GEMINI_KEY, "openai": OPENAI_KEY, "nim": NVIDIA_KEY}[provider]
    assert key in (request.headers.get("x-goog-api-key", "") + request.headers.get("authorization", ""))
    assert key not in str(request.body)
    [call] = audit.calls
    assert (call.validation, call.fallback_taken, call.tokens_estimated) == ("valid", False, False)
    assert call.tokens_in > 0 and call.tokens_out > 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_429_is_retried_within_the_bound(provider: str, stub: Stub) -> None:
    server = stub(scripted(StubReply(status=429, headers={"Retry-After": "0"}), StubReply()))
    outcome, _ = plan_with(provider, server, max_retries=1)
    assert (outcome.provider, len(server.requests)) == (provider, 2)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_persistent_500s_fall_back_to_offline_after_the_retries(provider: str, stub: Stub) -> None:
    server = stub(scripted(StubReply(status=500)))
    outcome, audit = plan_with(provider, server, max_retries=1)
    assert len(server.requests) == 2
    assert outcome.provider == "offline" and outcome.plan.actions[0].action == "clear_disk"
    assert "500" in (outcome.fallback_reason or "")
    assert [(c.provider, c.validation, c.fallback_taken) for c in audit.calls] == [
        (provider, "error", True),
        ("offline", "valid", True),
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_timeout_falls_back_to_offline(provider: str, stub: Stub) -> None:
    server = stub(scripted(StubReply(delay_s=1.5)))
    outcome, _ = plan_with(provider, server, timeout_s=0.3)
    assert outcome.provider == "offline"
    assert outcome.fallback_reason


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "reply",
    [
        StubReply(text="this is not JSON"),
        StubReply(text=answer([{"action": "drop_database", "service": "checkout"}])),
        StubReply(text=answer([{"action": "scale_out", "service": "checkout", "parameters": {"add": 500}}])),
        StubReply(raw_body=b'{"candidates": [', status=200),
    ],
    ids=["malformed", "off-catalog", "bad-parameters", "broken-body"],
)
def test_bad_answers_are_rejected_and_offline_plans(provider: str, reply: StubReply, stub: Stub) -> None:
    server = stub(scripted(reply))
    outcome, audit = plan_with(provider, server)
    assert outcome.provider == "offline"
    assert {a.action for a in outcome.plan.actions} <= {a.name for a in CONTEXT.catalog}
    assert audit.calls[0].validation in ("rejected", "error")
    assert audit.calls[-1].provider == "offline"


def test_a_server_without_json_schema_support_is_asked_again_in_json_mode(stub: Stub) -> None:
    def respond(request: StubRequest) -> StubReply:
        if request.body.get("response_format", {}).get("type") == "json_schema":
            return StubReply(status=400, raw_body=b'{"error": {"message": "response_format json_schema unsupported"}}')
        return planning_responder(request)

    server = stub(respond)
    outcome, _ = plan_with("openai", server)
    assert (outcome.provider, outcome.llm_calls) == ("openai", 2)
    assert [r.body["response_format"]["type"] for r in server.requests] == ["json_schema", "json_object"]


def test_the_token_budget_stops_a_call_before_it_is_made(stub: Stub) -> None:
    server = stub(planning_responder)
    outcome, audit = plan_with("openai", server, token_budget=500)
    assert server.requests == []
    assert outcome.provider == "offline" and "token budget" in (outcome.fallback_reason or "")
    assert audit.calls[0].validation == "skipped"


def test_a_provider_without_its_key_plans_offline_and_says_why() -> None:
    outcome = Reasoner.from_settings(settings_for("gemini", "http://127.0.0.1:9", gemini_api_key="")).plan(CONTEXT)
    assert outcome.provider == "offline"
    assert "GEMINI_API_KEY" in (outcome.fallback_reason or "")
