"""llm_actions and agent_decisions: one incident's trail by key queries, a day's steps by the by_day index."""

from __future__ import annotations

from datetime import UTC, datetime

from healops.bench.llm_stub import StubLLMServer, planning_responder, sample_context
from healops.llm import DynamoAuditTrail, Reasoner
from healops.llm.prompt import build_prompt
from healops.llm.redaction import Redactor
from healops.llm.settings import LLMSettings
from tests.unit.llm.conftest import settings_for
from tests.unit.llm.test_hostile_inputs import tables  # noqa: F401 - the fixture (moto tables in Terraform's shape)


def test_a_replanned_incident_keeps_one_ordered_timeline_and_its_token_spend(tables) -> None:  # noqa: F811
    _, audit = tables
    assert isinstance(audit, DynamoAuditTrail)
    context = sample_context("disk_exhaustion", n=7)
    with StubLLMServer(planning_responder) as server:
        reasoner = Reasoner.from_settings(settings_for("openai", server.url), audit)
        first = reasoner.plan(context)
        second = reasoner.plan(context)
    assert first.provider == second.provider == "openai"
    steps, token = audit.decisions.for_incident(context.incident_id)
    assert token is None
    assert [s.seq for s in steps] == list(range(1, len(steps) + 1))
    assert [s.phase for s in steps] == ["observed", "concluded", "chosen"] * 2
    calls, _ = audit.calls.for_incident(context.incident_id)
    assert len(calls) == 2 and calls[0].call_id < calls[1].call_id
    assert audit.tokens_spent(context.incident_id) == sum(c.tokens_in + c.tokens_out for c in calls) > 0


def test_the_budget_counts_what_earlier_plans_of_the_incident_spent(tables) -> None:  # noqa: F811
    _, audit = tables
    context = sample_context("memory_leak", n=8)
    # Room for one call and not two, measured rather than assumed (the prompt grows with the context).
    settings = settings_for("gemini", "http://127.0.0.1:9", token_budget=1)
    needed = build_prompt(context, Redactor()).estimated_tokens + settings.max_output_tokens
    with StubLLMServer(planning_responder) as server:
        first = Reasoner.from_settings(settings_for("gemini", server.url, token_budget=needed), audit)
        assert first.plan(context).provider == "gemini"
        spent = audit.tokens_spent(context.incident_id)
        assert spent > 0
        # A later plan (another invocation, the same incident) whose budget has room for one call more, less one
        # token, given what the first spent: the spend is read from llm_actions, so it is refused.
        later = Reasoner.from_settings(settings_for("gemini", server.url, token_budget=spent + needed - 1), audit)
        again = later.plan(context)
    assert again.provider == "offline" and "token budget" in (again.fallback_reason or "")
    assert len(server.requests) == 1


def test_a_days_steps_come_from_the_by_day_index_newest_first(tables) -> None:  # noqa: F811
    _, audit = tables
    day = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    for n, minute in enumerate((1, 2)):
        reasoner = Reasoner(LLMSettings(), None, audit, clock=lambda m=minute: day.replace(minute=m))
        reasoner.plan(sample_context("cpu_spike", n=100 + n))
    steps, _ = audit.decisions.for_day("2026-03-04")
    assert {s.incident_id for s in steps} == {"inc-cpu-spike-100", "inc-cpu-spike-101"}
    assert steps[0].at >= steps[-1].at
