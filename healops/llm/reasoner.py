"""The reasoner facade: one incident in, one validated plan out, every step recorded.

On the happy path it makes one provider call. A missing key, an exhausted token budget, a
provider error (after the SDK's bounded retries), a deadline reached or a rejected answer each
fall back to the offline reasoner; the call, its validation result and the fallback are written
to llm_actions, and the steps (seen, concluded, chosen, rejected) to agent_decisions. Nothing a
model returns leaves here except catalog actions whose parameters matched their schema.

Time: a plan has a deadline (``plan_deadline_s``, or the caller's, e.g. what is left of a Lambda's
time); the SDK's per-request timeout and retries are fitted into what is left of it, less a reserve
for the offline plan and the audit writes, and the call is abandoned when that runs out.
A repeated plan of the same incident episode (a retried plan step) can reuse the plan recorded
in llm_actions instead of asking the model again (:meth:`Reasoner.recorded_plan`).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from healops.llm.audit import AuditTrail, MemoryAuditTrail
from healops.llm.exceptions import DeadlineExceededError, ProviderError, ResponseRejectedError
from healops.llm.prompt import Prompt, build_prompt, estimate_tokens
from healops.llm.providers import (
    BaseProvider,
    CallLimits,
    Completion,
    MissingKeyError,
    OfflineReasoner,
    cached_provider,
    make_provider,
)
from healops.llm.redaction import Redactor
from healops.llm.settings import LLMSettings, load_settings
from healops.llm.types import IncidentContext, PlanOutcome, ReasonerPlan
from healops.llm.validation import check_action, validate_answer
from healops.store.agent_decisions import DecisionStep
from healops.store.llm_actions import MAX_TEXT_CHARS, LlmCallRecord

logger = logging.getLogger(__name__)

# Kept back from a deadline for what follows the model call (the offline plan, the audit writes, the
# step's return): 2 s, or a quarter of the time left when that is less (a 3 s Lambda keeps ~0.7 s).
DEADLINE_RESERVE_S = 2.0
DEADLINE_RESERVE_SHARE = 0.25
# A call with less time than this cannot finish: the offline reasoner answers without one.
MIN_CALL_S = 0.5
# When the window is shorter than one request's timeout, the request's own timeout is set this much past the
# window: otherwise the SDK's timer and the wait race, and a hung provider is recorded now as "deadline", now as
# the SDK's timeout error, depending on which thread the machine ran first.
SDK_TIMEOUT_GRACE_S = 0.5


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

    def plan(self, context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
        """Plan ``context``; ``deadline`` (a ``time.monotonic()`` instant) bounds the wait for a model,
        together with ``plan_deadline_s`` from now, whichever comes first."""
        started = time.perf_counter()
        limit = time.monotonic() + self.settings.plan_deadline_s
        limit = limit if deadline is None else min(limit, deadline)
        at = self.clock().isoformat()
        requested = self.settings.chosen_provider
        prompt = build_prompt(context, self.redact)
        steps = [self._observed(context, prompt)]
        plan: ReasonerPlan | None = None
        fallback: str | None = self.unavailable_reason
        calls = 0
        if self.provider is not None:
            plan, fallback, calls, rejected = self._ask(context, prompt, at, limit)
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
            model=self.offline.model if fallback or self.provider is None else self.provider.model,
            fallback_reason=fallback,
            llm_calls=calls,
            prompt_tokens=prompt.estimated_tokens if self.provider else 0,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _ask(
        self, context: IncidentContext, prompt: Prompt, at: str, deadline: float
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
        left = deadline - time.monotonic()
        window = left - min(DEADLINE_RESERVE_S, DEADLINE_RESERVE_SHARE * max(left, 0.0))
        if window < MIN_CALL_S:
            reason = f"deadline: {max(left, 0.0):.1f} s left for this plan, too little for a model call"
            self._record(context, at, prompt, None, "skipped", [reason], reason)
            return None, reason, 0, []
        called = time.perf_counter()
        try:
            completion = self._complete_within(prompt, window)
        except ProviderError as exc:
            reason = str(exc)
            waited_ms = (time.perf_counter() - called) * 1000
            self._record(context, at, prompt, None, "error", [reason], reason, latency_ms=waited_ms)
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

    def _complete_within(self, prompt: Prompt, window: float) -> Completion:
        """The provider's answer, or :class:`DeadlineExceededError` once ``window`` seconds have passed.

        The SDK's per-request timeout and retries are fitted into the window, so a call that keeps failing
        ends by itself; the wait is bounded anyway (a server that trickles bytes, a long Retry-After), and a
        call still running then is left to its own timeout, its answer ignored. A window shorter than one
        request's timeout is one attempt whose timeout ends ``SDK_TIMEOUT_GRACE_S`` after the window, so the
        wait, not the SDK, ends it and says so.
        """
        assert self.provider is not None
        provider = self.provider
        if self.settings.timeout_s < window:
            timeout = self.settings.timeout_s
            attempts = max(1, min(self.settings.max_retries + 1, int(window // timeout)))
        else:
            timeout, attempts = window + SDK_TIMEOUT_GRACE_S, 1
        limits = CallLimits(timeout_s=timeout, max_retries=attempts - 1)
        result: list[Completion | BaseException] = []
        done = threading.Event()

        def call() -> None:
            try:
                result.append(provider.complete(prompt, self.settings.max_output_tokens, limits))
            except BaseException as exc:  # handed to the waiting thread
                result.append(exc)
            finally:
                done.set()

        threading.Thread(target=call, name=f"llm-{provider.name}", daemon=True).start()
        if not done.wait(window):
            raise DeadlineExceededError(
                f"deadline: no answer from {provider.name} within {window:.1f} s "
                f"({attempts} attempt(s) of at most {timeout:.1f} s)"
            )
        outcome = result[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def recorded_plan(self, context: IncidentContext) -> PlanOutcome | None:
        """The plan recorded for this incident episode by an earlier :meth:`plan` (a retried plan step), or None.

        The last valid record of the episode is the plan that run ended with (the model's answer, or the
        offline plan after a fallback). It is validated again against this context's catalog and services;
        if it no longer passes, None (plan anew). No model is asked.
        """
        started = time.perf_counter()
        calls = [c for c in self.audit.calls_for(context.incident_id) if c.episode == context.episode]
        last = next((c for c in reversed(calls) if c.validation == "valid" and c.response), None)
        if last is None:
            return None
        plan = self._replay(last, context)
        if plan is None:
            return None
        by = last.provider
        step = DecisionStep(
            phase="concluded",
            title=f"plan step ran again: reused the plan {by} made at {last.at}",
            detail="no model call: the recorded plan was validated again against the catalog and the incident",
            actor=by,
            data={"call_id": last.call_id, "actions": [f"{a.action} on {a.service}" for a in plan.actions]},
        )
        self.audit.record_steps(context.incident_id, [step], self.clock().isoformat())
        return PlanOutcome(
            incident_id=context.incident_id,
            plan=plan,
            provider=by,
            requested_provider=self.settings.chosen_provider,
            model=last.model,
            fallback_reason=last.fallback_reason,
            llm_calls=0,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            reused_call=last.call_id,
        )

    def _replay(self, call: LlmCallRecord, context: IncidentContext) -> ReasonerPlan | None:
        if call.provider != "offline":
            try:
                return validate_answer(call.response, context, self.redact)
            except ResponseRejectedError:
                return None
        try:
            plan = ReasonerPlan.model_validate_json(call.response)
        except ValidationError:
            return None
        return None if any(check_action(context, a) for a in plan.actions) else plan

    def _offline(self, context: IncidentContext, at: str, fallback: str | None) -> ReasonerPlan:
        started = time.perf_counter()
        plan = self.offline.plan(context)
        self.audit.record_call(
            LlmCallRecord(
                incident_id=context.incident_id,
                call_id=f"{at}#{secrets.token_hex(4)}",
                episode=context.episode,
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
        latency_ms: float = 0.0,
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
                episode=context.episode,
                at=at,
                provider=self.provider.name,
                model=self.provider.model,
                prompt=_clip(self.redact(prompt.text)),
                response=_clip(self.redact(completion.text)) if completion else "",
                latency_ms=round(completion.latency_ms if completion else latency_ms, 3),
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
    deadline: float | None = None,
    reuse_recorded: bool = False,
    **clients: object,
) -> PlanOutcome:
    """Plan one incident with the configured provider (env and SSM), falling back to offline.

    ``deadline`` (a ``time.monotonic()`` instant) bounds the wait for a model; with ``reuse_recorded``
    a plan already recorded for the incident's episode is returned instead (no model call).
    ``clients`` (``gemini_client=``, ``chat_client=``) inject vendor clients, as tests do.
    """
    reasoner = Reasoner.from_settings(settings or load_settings(), audit, **clients)
    recorded = reasoner.recorded_plan(context) if reuse_recorded else None
    return recorded or reasoner.plan(context, deadline)
