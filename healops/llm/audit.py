"""Where the reasoner's trail goes: the llm_actions and agent_decisions tables, or memory.

:class:`AuditTrail` is the narrow interface the facade writes to. :class:`DynamoAuditTrail`
writes through the two repositories; :class:`MemoryAuditTrail` keeps records in lists for runs
without tables (the CLI's benchmark, a local experiment).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Protocol

from healops.store.agent_decisions import AgentDecisionsRepository, DecisionRecord, DecisionStep
from healops.store.llm_actions import LlmActionsRepository, LlmCallRecord

if TYPE_CHECKING:
    from healops.config import Settings


class AuditTrail(Protocol):
    def record_call(self, call: LlmCallRecord) -> None: ...

    def record_steps(self, incident_id: str, steps: list[DecisionStep], at: str) -> None: ...

    def tokens_spent(self, incident_id: str) -> int: ...

    def calls_for(self, incident_id: str) -> list[LlmCallRecord]:
        """The incident's recorded calls, oldest first."""
        ...


class DynamoAuditTrail:
    def __init__(self, calls: LlmActionsRepository, decisions: AgentDecisionsRepository) -> None:
        self.calls = calls
        self.decisions = decisions

    @classmethod
    def from_config(cls, settings: Settings, dynamodb_client: Any | None = None) -> DynamoAuditTrail:
        """The tables a function's environment names (HEALOPS_LLM_ACTIONS_TABLE, HEALOPS_AGENT_DECISIONS_TABLE)."""
        return cls(
            LlmActionsRepository(settings.require("llm_actions_table"), dynamodb_client),
            AgentDecisionsRepository(settings.require("agent_decisions_table"), dynamodb_client),
        )

    def record_call(self, call: LlmCallRecord) -> None:
        self.calls.record(call)

    def record_steps(self, incident_id: str, steps: list[DecisionStep], at: str) -> None:
        self.decisions.append(incident_id, steps, at)

    def tokens_spent(self, incident_id: str) -> int:
        return self.calls.tokens_spent(incident_id)

    def calls_for(self, incident_id: str) -> list[LlmCallRecord]:
        return self.calls.all_for_incident(incident_id)


class MemoryAuditTrail:
    def __init__(self) -> None:
        self.calls: list[LlmCallRecord] = []
        self.steps: dict[str, list[DecisionRecord]] = defaultdict(list)

    def record_call(self, call: LlmCallRecord) -> None:
        self.calls.append(call)

    def record_steps(self, incident_id: str, steps: list[DecisionStep], at: str) -> None:
        trail = self.steps[incident_id]
        for step in steps:
            trail.append(
                DecisionRecord(**step.model_dump(), incident_id=incident_id, seq=len(trail) + 1, at=at, day=at[:10])
            )

    def tokens_spent(self, incident_id: str) -> int:
        return sum(c.tokens_in + c.tokens_out for c in self.calls if c.incident_id == incident_id)

    def calls_for(self, incident_id: str) -> list[LlmCallRecord]:
        return sorted((c for c in self.calls if c.incident_id == incident_id), key=lambda c: c.call_id)
