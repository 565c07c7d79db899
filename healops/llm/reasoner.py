"""The reasoner facade: one incident in, one validated plan out, every step recorded.

On the happy path it makes one provider call. A missing key, an exhausted token budget, a
provider error (after the SDK's bounded retries) or a rejected answer each fall back to the
offline reasoner; the call, its validation result and the fallback are written to llm_actions,
and the steps (seen, concluded, chosen, rejected) to agent_decisions. Nothing a model returns
leaves here except catalog actions whose parameters matched their schema.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from healops.llm.audit import AuditTrail, MemoryAuditTrail
from healops.llm.exceptions import ProviderError, ResponseRejectedError
from healops.llm.prompt import Prompt, build_prompt, estimate_tokens
from healops.llm.providers import (
    BaseProvider,
    Completion,
    MissingKeyError,
    OfflineReasoner,
    cached_provider,
    make_provider,
)
from healops.llm.redaction import Redactor
from healops.llm.settings import LLMSettings, load_settings
from healops.llm.types import IncidentContext, PlanOutcome, ReasonerPlan
from healops.llm.validation import validate_answer
from healops.store.agent_decisions import DecisionStep
from healops.store.llm_actions import MAX_TEXT_CHARS, LlmCallRecord

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


class Reasoner:
    """Plans incidents with ``provider`` (None: offline), falling back to ``offline``, writing to ``audit``."""

    def __init__(
        self,
        settings: LLMSettings,
        provider: BaseProvider | None,
        audit: AuditTrail | None = None,
        offline: OfflineReasoner | None = None,
        unavailable_reason: str | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.audit: AuditTrail = audit if audit is not None else MemoryAuditTrail()
        self.offline = offline or OfflineReasoner()
        self.redact = Redactor(settings.secrets())
        self.unavailable_reason = unavailable_reason
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: LLMSettings, audit: AuditTrail | None = None, **clients: object) -> Reasoner:
        try:
            provider = make_provider(settings, **clients) if clients else cached_provider(settings)  # type: ignore[arg-type]
        except MissingKeyError as exc:
            return cls(settings, None, audit, unavailable_reason=str(exc))
        return cls(settings, provider, audit)

    # ---- the flow --------------------------------------------------------------------------------

    def plan(self, context: IncidentContext) -> PlanOutcome:
        started = time.perf_counter()
        at = self.clock().isoformat()
        requested = self.settings.chosen_provider
        prompt = build_prompt(context, self.redact)
        steps = [self._observed(context, prompt)]
        plan: ReasonerPlan | None = None
        fallback: str | None = self.unavailable_reason
        calls = 0
        if self.provider is not None:
            plan, fallback, calls, rejected = self._ask(context, prompt, at)
            steps.extend(rejected)
        if plan is None:
            plan = self._offline(context, at, fallback)
            if fallback:
                steps.append(DecisionStep(phase="fallback", title="offline reasoner planned instead", detail=fallback))
        steps.extend(self._conclusions(plan, self.provider.name if (self.provider and not fallback) else "offline"))
        self.audit.record_steps(context.incident_id, steps, at)
        return PlanOutcome(
            incident_id=context.incident_id,
            plan=plan,
            provider="offline" if fallback or self.provider is None else self.provider.name,
            requested_provider=requested,
            model=self.provider.model if self.provider else self.offline.model,
            fallback_reason=fallback,
            llm_calls=calls,
            prompt_tokens=prompt.estimated_tokens if self.provider else 0,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _ask(
        self, context: IncidentContext, prompt: Prompt, at: str
    ) -> tuple[ReasonerPlan | None, str | None, int, list[DecisionStep]]:
        """One provider call: (plan or None, why it fell back, requests made, rejection steps)."""
        assert self.provider is not None
        budget = self.settings.token_budget
        spent = self.audit.tokens_spent(context.incident_id)
        needed = prompt.estimated_tokens + self.settings.max_output_tokens
        if spent + needed > budget:
            reason = f"token budget: {spent} spent + {needed} needed > {budget} for this incident"
            self._record(context, at, prompt, None, "skipped", [reason], reason)
            return None, reason, 0, []
        try:
            completion = self.provider.complete(prompt, self.settings.max_output_tokens)
        except ProviderError as exc:
            reason = str(exc)
            self._record(context, at, prompt, None, "error", [reason], reason)
            return None, reason, 1, []
        try:
            plan = validate_answer(completion.text, context, self.redact)
        except ResponseRejectedError as exc:
            reason = f"{self.provider.name} answer rejected: {len(exc.errors)} problem(s)"
            self._record(context, at, prompt, completion, "rejected", exc.errors, reason)
            detail = self.redact("; ".join(exc.errors))[:2000]
            return None, reason, completion.requests, [DecisionStep(phase="rejected", title=reason, detail=detail)]
        self._record(context, at, prompt, completion, "valid", [], None)
        return plan, None, completion.requests, []

    def _offline(self, context: IncidentContext, at: str, fallback: str | None) -> ReasonerPlan:
        started = time.perf_counter()
        plan = self.offline.plan(context)
        self.audit.record_call(
            LlmCallRecord(
                incident_id=context.incident_id,
                call_id=f"{at}#{secrets.token_hex(4)}",
                at=at,
                provider="offline",
                model=self.offline.model,
                response=_clip(plan.model_dump_json()),
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                validation="valid",
                fallback_taken=fallback is not None,
                fallback_reason=fallback,
            )
        )
        return plan

    def _record(
        self,
        context: IncidentContext,
        at: str,
        prompt: Prompt,
        completion: Completion | None,
        validation: str,
        errors: list[str],
        fallback: str | None,
    ) -> None:
        assert self.provider is not None
        if completion is not None:
            tokens_in = prompt.estimated_tokens if completion.tokens_in is None else completion.tokens_in
            tokens_out = estimate_tokens(completion.text) if completion.tokens_out is None else completion.tokens_out
            estimated = completion.tokens_in is None or completion.tokens_out is None
        elif validation == "error":
            # The prompt may have been read before the failure: count it against the budget.
            tokens_in, tokens_out, estimated = prompt.estimated_tokens, 0, True
        else:
            tokens_in, tokens_out, estimated = 0, 0, False
        self.audit.record_call(
            LlmCallRecord(
                incident_id=context.incident_id,
                call_id=f"{at}#{secrets.token_hex(4)}",
                at=at,
                provider=self.provider.name,
                model=self.provider.model,
                prompt=_clip(self.redact(prompt.text)),
                response=_clip(self.redact(completion.text)) if completion else "",
                latency_ms=round(completion.latency_ms, 3) if completion else 0.0,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                tokens_estimated=estimated,
                cost_usd=self.settings.estimated_cost_usd(tokens_in, tokens_out),
                validation=validation,  # type: ignore[arg-type]
                errors=[self.redact(e)[:500] for e in errors[:20]],
                fallback_taken=fallback is not None,
                fallback_reason=self.redact(fallback) if fallback else None,
            )
        )

    # ---- trace steps -------------------------------------------------------------------------------

    def _observed(self, context: IncidentContext, prompt: Prompt) -> DecisionStep:
        signals = ", ".join(f"{s.name} on {s.service} (score {s.score:.1f})" for s in context.signals[:6]) or "none"
        return DecisionStep(
            phase="observed",
            title=f"{context.kind} on {context.service} ({context.severity})",
            detail=f"signals: {signals}; {len(context.metrics)} metric summaries, {len(context.logs)} log lines",
            data={"prompt_tokens": prompt.estimated_tokens, "catalog": [a.name for a in context.catalog]},
        )

    def _conclusions(self, plan: ReasonerPlan, by: str) -> list[DecisionStep]:
        diagnosis = plan.diagnosis
        steps = [
            DecisionStep(
                phase="concluded",
                title=f"{diagnosis.fault_kind} (confidence {diagnosis.confidence:.2f})",
                detail=diagnosis.root_cause,
                actor=by,
                data={"affected_services": diagnosis.affected_services, "evidence": diagnosis.evidence},
            )
        ]
        for rank, action in enumerate(plan.actions, start=1):
            steps.append(
                DecisionStep(
                    phase="chosen",
                    title=f"#{rank} {action.action} on {action.service}",
                    detail=action.rationale,
                    actor=by,
                    data={"parameters": json.loads(json.dumps(action.parameters)), "blast_radius": action.blast_radius},
                )
            )
        if not plan.actions:
            steps.append(DecisionStep(phase="chosen", title="no action proposed: escalate", actor=by))
        return steps


def plan_incident(
    context: IncidentContext,
    *,
    settings: LLMSettings | None = None,
    audit: AuditTrail | None = None,
    **clients: object,
) -> PlanOutcome:
    """Plan one incident with the configured provider (env and SSM), falling back to offline.

    ``clients`` (``gemini_client=``, ``chat_client=``) inject vendor clients, as tests do.
    """
    return Reasoner.from_settings(settings or load_settings(), audit, **clients).plan(context)
