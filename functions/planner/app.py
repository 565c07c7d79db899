"""Planner: the remediation state machine's Plan state, the one function that calls a model.

Input ``{"step": "plan", "state": {"incident": <IncidentMessage>}}`` (the execution's state); the answer is the
run (healops/remediation/run.py) with its route, which the state machine keeps at ``$.run``. The planner reads
what planning needs (the incident, the service's attempts, the fleet, metrics, log lines, the remediation policy,
the LLM settings and keys) and writes only its audit (the model calls in llm_actions, the reasoning in
agent_decisions): it never acts, and the remediator, which acts, never calls a model (docs/security.md). It stops
waiting for a model before the invocation's time runs out (the offline reasoner answers), and a plan step that
runs again for the same incident episode reuses the recorded plan rather than asking the model again.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from healops import config
from healops.logs import function_logger, redact_errors
from healops.models import IncidentMessage
from healops.redaction import redact_value
from healops.remediation.engine import Remediation
from healops.remediation.wiring import build_planner

logger = function_logger()
# What a plan step keeps of its invocation's time for the step after the planner (RunState, the return).
PLAN_MARGIN_S = 0.3


@cache
def engine() -> Remediation:
    return build_planner(config.current())


def plan_deadline(context: Any) -> float | None:
    """The ``time.monotonic()`` instant the plan must be made by: the invocation's end less a margin (the
    reasoner keeps its own reserve for the offline plan and the audit writes); None outside Lambda."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + remaining() / 1000.0 - PLAN_MARGIN_S


@redact_errors
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not (isinstance(event, dict) and event.get("step") == "plan" and isinstance(event.get("state"), dict)):
        raise ValueError(
            "planner accepts the Plan state's task ({'step': 'plan', 'state': {'incident': {...}}}); got "
            f"{type(event).__name__} with keys {sorted(event) if isinstance(event, dict) else []}"
        )
    incident = IncidentMessage.model_validate(event["state"]["incident"])
    logger.append_keys(incident_id=incident.incident_id, step="plan")
    # The remediator recorded the incident before it started the execution; this role may not write it.
    run = engine().plan(incident, plan_deadline(context), record=False)
    # The answer becomes the execution's state (its history keeps it): redacted like every step's.
    return redact_value(run.model_dump(mode="json"))
