"""The detector's root is a fact to the reasoners: a concurrent fault on a neighbour changes a root's diagnosis and
plan only when the detector linked the two, and then the root's own actions come first."""

from __future__ import annotations

import json

import pytest

from healops.bench.llm_stub import sample_context
from healops.llm import MemoryAuditTrail, Reasoner
from healops.llm.exceptions import ResponseRejectedError
from healops.llm.prompt import SYSTEM_INSTRUCTION, Prompt, context_document
from healops.llm.providers.base import BaseProvider, CallLimits, Completion
from healops.llm.providers.offline import OfflineReasoner
from healops.llm.redaction import Redactor
from healops.llm.types import IncidentContext, PlanOutcome
from healops.llm.validation import validate_answer
from tests.unit.llm.conftest import settings_for

LEAK_REASON = "checkout shows memory of its own, which no dependency's fault causes"


def with_failing_payments(context: IncidentContext, linked: bool) -> IncidentContext:
    """``context`` with checkout's dependency payments down and failing at the same time (its own fault)."""
    failing = {"Heartbeat": (0.0, 0.3, 1.0), "ErrorRate": (60.0, 40.0, 70.0)}
    metrics = [
        m.model_copy(update=dict(zip(("last", "mean", "max"), failing[m.metric], strict=True)))
        if m.service == "payments" and m.metric in failing
        else m
        for m in context.metrics
    ]
    return context.model_copy(update={"metrics": metrics, "linked": ["payments"] if linked else []})


def leaking_checkout(linked: bool) -> IncidentContext:
    context = sample_context("memory_leak").model_copy(update={"root_reason": LEAK_REASON})
    return with_failing_payments(context, linked)


def test_a_concurrent_fault_on_a_dependency_does_not_change_a_leaking_roots_diagnosis() -> None:
    # The defect seen on the deployed stack: "dependency failure on payments" (0.72), a restart and a failover of
    # payments planned for checkout's leak, and the leak never acted on.
    plan = OfflineReasoner().plan(leaking_checkout(linked=False))
    assert plan.diagnosis.fault_kind == "memory_leak" and plan.diagnosis.affected_services == ["checkout"]
    assert plan.actions and {a.service for a in plan.actions} == {"checkout"}


def test_a_linked_dependency_does_not_explain_a_leak_either() -> None:
    # A dependency's fault travels up as errors and latency, never as memory of the caller's own.
    plan = OfflineReasoner().plan(leaking_checkout(linked=True))
    assert plan.diagnosis.fault_kind == "memory_leak"
    assert plan.actions[0].service == "checkout"


def test_a_failing_dependency_the_detector_did_not_link_gets_no_action_from_the_roots_errors() -> None:
    context = sample_context("dependency_failure").model_copy(update={"linked": []})
    plan = OfflineReasoner().plan(context)
    assert plan.diagnosis.fault_kind != "dependency_failure"
    assert {a.service for a in plan.actions} == {"checkout"}


def test_a_dependency_the_detector_linked_explains_the_roots_errors_and_its_fixes_rank_after_the_roots_own() -> None:
    plan = OfflineReasoner().plan(sample_context("dependency_failure"))
    assert plan.diagnosis.fault_kind == "dependency_failure"
    assert plan.diagnosis.root_cause == "dependency failure on payments, affecting checkout"
    services = [a.service for a in plan.actions]
    assert "payments" in services and services == sorted(services, key=lambda s: s != "checkout")
    assert ("restart_service", "payments") in [(a.action, a.service) for a in plan.actions]


def test_the_prompt_gives_the_root_its_reason_and_the_linked_services_as_facts() -> None:
    context = leaking_checkout(linked=False)
    document = context_document(context, Redactor())
    assert document["incident"]["service"] == "checkout"
    assert document["incident"]["root_reason"] == LEAK_REASON
    assert document["incident"]["linked_services"] == []
    assert "Take it as a fact, not a hint" in SYSTEM_INSTRUCTION
    assert "never act on it here" in SYSTEM_INSTRUCTION


def _answer(*steps: tuple[str, str]) -> str:
    plan = [{"action": a, "service": s, "parameters": "{}", "rationale": "r"} for a, s in steps]
    diagnosis = {
        "root_cause": "dependency failure on payments",
        "fault_kind": "dependency_failure",
        "affected_services": ["checkout", "payments"],
        "confidence": 0.7,
        "evidence": [],
    }
    return json.dumps({"diagnosis": diagnosis, "plan": plan})


def test_a_models_action_on_a_dependency_the_detector_did_not_link_rejects_the_answer() -> None:
    context = leaking_checkout(linked=False)
    with pytest.raises(ResponseRejectedError) as rejected:
        validate_answer(_answer(("restart_service", "payments"), ("failover", "payments")), context, Redactor())
    assert "'payments' is neither the incident's root (checkout) nor linked to it by the detector" in str(
        rejected.value
    )


def test_a_models_actions_on_a_linked_service_rank_after_the_roots_own() -> None:
    context = leaking_checkout(linked=True)
    answer = _answer(("restart_service", "payments"), ("restart_service", "checkout"), ("failover", "payments"))
    plan = validate_answer(answer, context, Redactor())
    assert [(a.action, a.service) for a in plan.actions] == [
        ("restart_service", "checkout"),
        ("restart_service", "payments"),
        ("failover", "payments"),
    ]


class BlamingTheDependency(BaseProvider):
    """A model that reads payments' failure into checkout's incident: payments' fault, payments' fixes."""

    name = "openai"

    def __init__(self) -> None:
        super().__init__("stub-model")

    def _complete(self, prompt: Prompt, max_output_tokens: int, limits: CallLimits | None) -> Completion:
        return Completion(text=_answer(("restart_service", "payments"), ("failover", "payments")))


def plan_with_the_model(linked: bool) -> tuple[MemoryAuditTrail, PlanOutcome]:
    audit = MemoryAuditTrail()
    reasoner = Reasoner(settings_for("openai", "http://127.0.0.1:9"), BlamingTheDependency(), audit)
    return audit, reasoner.plan(leaking_checkout(linked=linked))


def test_through_the_model_a_concurrent_fault_on_an_unlinked_dependency_leaves_the_roots_diagnosis() -> None:
    # The LLM path end to end: the model's "dependency failure on payments" is rejected, and the plan that runs is
    # the offline reasoner's, on the detector's root.
    audit, outcome = plan_with_the_model(linked=False)
    assert outcome.provider == "offline" and (outcome.fallback_reason or "").startswith("openai answer rejected")
    assert outcome.plan.diagnosis.fault_kind == "memory_leak" and outcome.plan.diagnosis.affected_services == [
        "checkout"
    ]
    assert {a.service for a in outcome.plan.actions} == {"checkout"}
    [model_call, offline_call] = audit.calls
    assert model_call.validation == "rejected"
    assert any("nor linked to it by the detector" in e for e in model_call.errors)
    assert offline_call.provider == "offline"


def test_through_the_model_a_dependency_the_detector_linked_may_change_the_diagnosis_after_the_roots_actions() -> None:
    # Linked, the same answer stands as the model's diagnosis; its actions are on a linked service, so they run,
    # after any of the root's own (here there are none: the model proposed only the dependency's).
    _, outcome = plan_with_the_model(linked=True)
    assert outcome.provider == "openai" and outcome.fallback_reason is None
    assert outcome.plan.diagnosis.fault_kind == "dependency_failure"
    assert [(a.action, a.service) for a in outcome.plan.actions] == [
        ("restart_service", "payments"),
        ("failover", "payments"),
    ]
