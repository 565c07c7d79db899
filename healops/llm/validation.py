"""Strict validation of a model's answer against the incident's catalog: anything wrong rejects it all.

A manipulated or confused model is suspect as a whole, so one bad action (unknown name, unknown
service, a service neither the detector's root nor linked to the incident, parameters not matching the
action's JSON schema) rejects the whole answer and the offline reasoner plans instead. The root's own
actions rank first, whatever order the model gave. Free text that survives (root cause, rationale, evidence) is
redacted and truncated: it is shown on the dashboard and stored.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError

from healops.llm.exceptions import ResponseRejectedError
from healops.llm.redaction import Redactor
from healops.llm.types import (
    MAX_PLAN_ACTIONS,
    Diagnosis,
    IncidentContext,
    ProposedAction,
    ReasonerPlan,
    WireAnswer,
)
from healops.models import describe_validation_error

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def _clip(text: str, redactor: Redactor, limit: int) -> str:
    text = " ".join(redactor(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parameter_errors(schema: dict[str, Any], parameters: Any) -> list[str]:
    """Why ``parameters`` does not match ``schema`` (empty when it does)."""
    try:
        validator = Draft202012Validator(schema)
    except SchemaError as exc:  # a catalog bug, not the model's: still never run unchecked parameters
        return [f"the catalog's parameter schema is invalid: {exc.message}"]
    return [
        f"{'/'.join(map(str, e.absolute_path)) or 'parameters'}: {e.message}" for e in validator.iter_errors(parameters)
    ]


def check_action(context: IncidentContext, proposal: ProposedAction) -> list[str]:
    """Errors of one proposal against the catalog and the known services (empty when valid)."""
    spec = context.action(proposal.action)
    if spec is None:
        names = ", ".join(a.name for a in context.catalog)
        return [f"action {proposal.action!r} is not in the catalog (accepted: {names})"]
    errors = []
    if proposal.service not in context.known_services():
        errors.append(f"{proposal.action}: service {proposal.service!r} is not one of the incident's services")
    elif proposal.service not in context.actionable_services():
        errors.append(
            f"{proposal.action}: service {proposal.service!r} is neither the incident's root ({context.service}) nor "
            f"linked to it by the detector (linked: {', '.join(context.linked) or 'none'}); a fault there is its own "
            "incident's"
        )
    errors.extend(f"{proposal.action}: {e}" for e in parameter_errors(spec.parameters_schema, proposal.parameters))
    return errors


def root_first(context: IncidentContext, actions: list[ProposedAction]) -> list[ProposedAction]:
    """``actions`` with the root's own first, in their order, then those on linked services, in theirs."""
    return sorted(actions, key=lambda a: a.service != context.service)


def parse_answer(text: str) -> WireAnswer:
    """The model's text as a :class:`WireAnswer`; malformed JSON or shape raises ResponseRejectedError."""
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ResponseRejectedError([f"the answer is not JSON: {exc.msg} at character {exc.pos}"]) from exc
    try:
        return WireAnswer.model_validate(data)
    except ValidationError as exc:
        raise ResponseRejectedError(
            [f"the answer does not match the schema: {describe_validation_error(exc)}"]
        ) from exc


def validate_answer(text: str, context: IncidentContext, redactor: Redactor) -> ReasonerPlan:
    """A validated plan from a model's raw answer, or ResponseRejectedError listing every problem."""
    answer = parse_answer(text)
    errors: list[str] = []
    if len(answer.plan) > MAX_PLAN_ACTIONS:
        errors.append(f"the plan has {len(answer.plan)} actions; at most {MAX_PLAN_ACTIONS} are accepted")
    known = context.known_services()
    unknown = sorted(set(answer.diagnosis.affected_services) - known)
    if unknown:
        errors.append(f"affected_services names services that are not in the incident: {unknown}")
    if not 0.0 <= answer.diagnosis.confidence <= 1.0:
        errors.append(f"confidence must be between 0 and 1 (got {answer.diagnosis.confidence})")
    actions: list[ProposedAction] = []
    for rank, wire in enumerate(answer.plan[:MAX_PLAN_ACTIONS], start=1):
        try:
            parameters = json.loads(wire.parameters) if wire.parameters.strip() else {}
        except json.JSONDecodeError:
            errors.append(f"action {rank} ({wire.action!r}): parameters are not a JSON object")
            continue
        if not isinstance(parameters, dict):
            errors.append(f"action {rank} ({wire.action!r}): parameters must be a JSON object")
            continue
        try:
            proposal = ProposedAction(
                action=wire.action,
                service=wire.service,
                parameters=parameters,
                rationale=_clip(wire.rationale, redactor, 400),
            )
        except ValidationError as exc:
            errors.append(f"action {rank}: {describe_validation_error(exc)}")
            continue
        problems = check_action(context, proposal)
        errors.extend(problems)
        if not problems:
            spec = context.action(proposal.action)
            assert spec is not None
            actions.append(proposal.model_copy(update={"blast_radius": spec.blast_radius}))
    if errors:
        raise ResponseRejectedError(errors)
    diagnosis = Diagnosis(
        root_cause=_clip(answer.diagnosis.root_cause, redactor, 600),
        fault_kind=_clip(answer.diagnosis.fault_kind, redactor, 64),
        affected_services=answer.diagnosis.affected_services,
        confidence=answer.diagnosis.confidence,
        evidence=[_clip(e, redactor, 200) for e in answer.diagnosis.evidence[:10]],
    )
    return ReasonerPlan(diagnosis=diagnosis, actions=root_first(context, actions))
