"""A slow or hung model never times the plan step out: the offline reasoner answers before the deadline, and
says why in llm_actions. A plan step that runs again for the same incident episode asks no model again."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from healops.bench.llm_stub import StubLLMServer, StubReply, StubRequest, planning_responder, sample_context
from healops.llm import MemoryAuditTrail, Reasoner
from healops.llm.prompt import Prompt
from healops.llm.providers.base import BaseProvider, CallLimits, Completion
from healops.llm.reasoner import SDK_TIMEOUT_GRACE_S
from healops.llm.settings import LLMSettings
from tests.unit.functions.conftest import load_handler
from tests.unit.llm.conftest import PROVIDERS, settings_for
from tests.unit.llm.deployed import MotoStack, error_signals, use_stub

Stub = Callable[[Callable[[StubRequest], StubReply]], StubLLMServer]
planner = load_handler("planner")
HUNG = 30.0  # seconds the hung stub sits on a request: longer than any test waits


def hung(request: StubRequest) -> StubReply:
    return StubReply(delay_s=HUNG, text=planning_responder(request).text)


class LambdaContext:
    """The part of the Lambda context the handler reads: its remaining time."""

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.time() + timeout_s
        self.aws_request_id = "unit-request"
        self.function_name = "planner"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def plan_task(incident: object) -> dict:
    return {"step": "plan", "state": {"incident": incident.model_dump(mode="json")}}  # type: ignore[attr-defined]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hung_provider_falls_back_to_offline_before_the_deadline(provider: str, stub: Stub) -> None:
    server = stub(hung)
    # The defaults: 20 s per request and 2 retries, 60 s and more in all; the deadline is 2 s away.
    settings = settings_for(provider, server.url, timeout_s=20.0, max_retries=2)
    audit = MemoryAuditTrail()
    started = time.monotonic()
    outcome = Reasoner.from_settings(settings, audit).plan(sample_context("disk_exhaustion"), started + 2.0)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"the plan took {elapsed:.2f} s"
    assert outcome.provider == "offline" and outcome.plan.actions[0].action == "clear_disk"
    assert (outcome.fallback_reason or "").startswith(f"deadline: no answer from {provider}")
    assert len(server.requests) == 1  # no retry that could not finish in time
    error, offline = audit.calls
    assert (error.provider, error.validation, error.fallback_taken) == (provider, "error", True)
    assert error.fallback_reason == outcome.fallback_reason
    # It waited out its window (the deadline less the offline reserve and the set-up, printed to 0.1 s).
    window_s = float(re.search(r"within ([0-9.]+) s", error.fallback_reason or "").group(1))  # type: ignore[union-attr]
    assert error.latency_ms >= (window_s - 0.1) * 1000
    assert (offline.provider, offline.fallback_taken) == ("offline", True)
    assert offline.fallback_reason == error.fallback_reason


class TimingOutProvider(BaseProvider):
    """An SDK against a hung server: it gives up exactly when its per-request timeout says."""

    name = "openai"

    def __init__(self) -> None:
        super().__init__("stub-model")
        self.limits: list[CallLimits] = []

    def _complete(self, prompt: Prompt, max_output_tokens: int, limits: CallLimits | None) -> Completion:
        assert limits is not None
        self.limits.append(limits)
        time.sleep(limits.timeout_s)
        raise TimeoutError("read timed out")


def test_a_window_shorter_than_one_request_is_ended_by_the_wait_not_by_the_sdk_timer() -> None:
    # The SDK's timer set to the window itself raced the wait (CI once recorded "openai call failed:
    # APITimeoutError" for a hung provider): the request now times out SDK_TIMEOUT_GRACE_S after the window.
    provider = TimingOutProvider()
    settings = settings_for("openai", "http://127.0.0.1:9", timeout_s=20.0, max_retries=2)
    started = time.monotonic()
    outcome = Reasoner(settings, provider).plan(sample_context("disk_exhaustion"), started + 2.0)
    assert time.monotonic() - started < 2.0
    [limits] = provider.limits
    window = float(re.search(r"within ([0-9.]+) s", outcome.fallback_reason or "").group(1))  # type: ignore[union-attr]
    assert limits.max_retries == 0 and limits.timeout_s >= window + SDK_TIMEOUT_GRACE_S - 0.1
    assert (outcome.fallback_reason or "").startswith("deadline: no answer from openai")


def test_the_configured_plan_deadline_bounds_a_plan_without_a_caller_deadline(stub: Stub) -> None:
    server = stub(hung)
    settings = settings_for("openai", server.url, timeout_s=20.0, max_retries=2, plan_deadline_s=1.5)
    started = time.monotonic()
    outcome = Reasoner.from_settings(settings).plan(sample_context("memory_leak"))
    assert time.monotonic() - started < 1.5
    assert outcome.provider == "offline" and "deadline" in (outcome.fallback_reason or "")


def test_too_little_time_left_asks_no_model(stub: Stub) -> None:
    server = stub(planning_responder)
    audit = MemoryAuditTrail()
    outcome = Reasoner.from_settings(settings_for("gemini", server.url), audit).plan(
        sample_context("memory_leak"), time.monotonic() + 0.4
    )
    assert server.requests == []
    assert outcome.provider == "offline" and "too little for a model call" in (outcome.fallback_reason or "")
    assert audit.calls[0].validation == "skipped"


def test_a_slow_answer_within_the_deadline_is_used(stub: Stub) -> None:
    server = stub(lambda request: StubReply(delay_s=0.5, text=planning_responder(request).text))
    outcome = Reasoner.from_settings(settings_for("nim", server.url)).plan(
        sample_context("memory_leak"), time.monotonic() + 3.0
    )
    assert (outcome.provider, outcome.fallback_reason) == ("nim", None)


def test_the_deployed_plan_step_answers_within_a_3_s_lambda_when_the_model_hangs(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = moto_stack.open_incident("inc-hung-1", "checkout", "error_rate", error_signals("checkout"))
    with StubLLMServer(hung) as server:
        use_stub(monkeypatch, "openai", server.url)
        monkeypatch.setenv("HEALOPS_LLM_TIMEOUT_S", "20")
        monkeypatch.setenv("HEALOPS_LLM_MAX_RETRIES", "2")
        planner.engine.cache_clear()
        context = LambdaContext(3.0)
        run = planner.handler(plan_task(incident), context)
        left = context.get_remaining_time_in_millis()
    planner.engine.cache_clear()
    assert left > 0, "the plan step used the whole invocation"
    assert run["planner"] == "offline:rules-v1" and run["candidates"]
    error = next(c for c in moto_stack.llm_calls("inc-hung-1") if c.provider == "openai")
    assert error.validation == "error" and (error.fallback_reason or "").startswith("deadline: no answer from openai")


def test_a_retried_plan_step_reuses_the_recorded_plan_and_a_new_episode_plans_anew(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = moto_stack.open_incident("inc-retry-1", "checkout", "error_rate", error_signals("checkout"))
    with StubLLMServer(planning_responder) as server:
        use_stub(monkeypatch, "gemini", server.url)
        planner.engine.cache_clear()
        first = planner.handler(plan_task(incident), LambdaContext(10.0))
        again = planner.handler(plan_task(incident), LambdaContext(10.0))
        assert len(server.requests) == 1, "the retried plan step asked the model again"
        reopened = incident.model_copy(update={"episode": 1})
        planner.handler(plan_task(reopened), LambdaContext(10.0))
        assert len(server.requests) == 2
    planner.engine.cache_clear()
    assert first["planner"].startswith("gemini:") and again["candidates"] == first["candidates"]
    assert again["planner"] == first["planner"]
    calls = moto_stack.llm_calls("inc-retry-1")
    assert [(c.provider, c.episode) for c in calls] == [("gemini", 0), ("gemini", 1)]
    steps = planner.engine().decisions.for_incident("inc-retry-1")[0]
    assert any(s.phase == "concluded" and s.title.startswith("plan step ran again") for s in steps)


def test_a_retry_after_a_fallback_reuses_the_offline_plan_without_asking_again(stub: Stub) -> None:
    server = stub(lambda request: StubReply(status=500))
    audit = MemoryAuditTrail()
    reasoner = Reasoner.from_settings(settings_for("openai", server.url), audit)
    context = sample_context("disk_exhaustion", n=5)
    first = reasoner.plan(context)
    reused = reasoner.recorded_plan(context)
    assert len(server.requests) == 1 and first.provider == "offline"
    assert reused is not None and reused.plan == first.plan and reused.llm_calls == 0
    assert (reused.provider, reused.fallback_reason) == ("offline", first.fallback_reason)


def test_a_recorded_plan_that_no_longer_validates_is_not_reused() -> None:
    audit = MemoryAuditTrail()
    context = sample_context("disk_exhaustion", n=6)
    Reasoner(LLMSettings(), None, audit).plan(context)
    narrower = context.model_copy(update={"catalog": [a for a in context.catalog if a.name != "clear_disk"]})
    assert Reasoner(LLMSettings(), None, audit).recorded_plan(narrower) is None
    assert Reasoner(LLMSettings(), None, audit).recorded_plan(context) is not None
