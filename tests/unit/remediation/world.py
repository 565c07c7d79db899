"""The engine tests' world: :class:`healops.remediation.simulated.SimulatedRemediation` (the fleet model, a manual
clock, the repositories on the moto client given), an incident message and a planner that proposes what it is told.
"""

from __future__ import annotations

from typing import Any

from healops.llm.types import Diagnosis, IncidentContext, PlanOutcome, ProposedAction, ReasonerPlan
from healops.models.incident import IncidentMessage
from healops.remediation.simulated import SimulatedRemediation as World
from healops.remediation.simulated import incident_message

__all__ = ["World", "incident", "planned"]


def incident(service: str, kind: str, episode: int = 0, incident_id: str | None = None) -> IncidentMessage:
    return incident_message(service, kind, incident_id or f"unit-{service}-{kind}", episode)


def planned(*actions: tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]) -> Any:
    """A planner proposing ``actions`` (action, parameters[, service: the incident's by default]) in order,
    whatever the incident (a reasoner that guessed wrong first)."""

    def plan(context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
        proposals = [
            ProposedAction(action=a[0], service=a[2] if len(a) > 2 else context.service, parameters=a[1])
            for a in actions
        ]
        diagnosis = Diagnosis(
            root_cause="test", fault_kind="unknown", affected_services=[context.service], confidence=0.5
        )
        return PlanOutcome(
            incident_id=context.incident_id,
            plan=ReasonerPlan(diagnosis=diagnosis, actions=proposals),
            provider="offline",
            requested_provider="offline",
            model="test",
        )

    return plan
