"""Table ``<prefix>-agent_decisions``: the reasoning trace, keyed (incident_id, seq), GSI by_day (day, at).

Each step says what was seen, concluded, chosen or rejected, and why: a dashboard shows one
incident's steps as a timeline (a key query in ``seq`` order) and a day's steps across
incidents from the ``by_day`` index; neither scans.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from healops.store.base import ConditionFailedError, DynamoRepository

# Reasoner phases, then the remediation steps' own (guard, approval, act, verify, the end).
Phase = Literal[
    "observed",
    "concluded",
    "chosen",
    "rejected",
    "fallback",
    "guarded",
    "skipped",
    "awaiting_approval",
    "approved",
    "denied",
    "acted",
    "verified",
    "compensated",
    "resolved",
    "escalated",
]
_APPEND_ATTEMPTS = 5


class DecisionStep(BaseModel):
    """One step as the writer describes it; ``seq``, ``at`` and ``day`` are set when it is appended."""

    model_config = ConfigDict(extra="ignore")

    phase: Phase
    title: str = Field(max_length=200)
    detail: str = Field(default="", max_length=2000)
    actor: str = Field(default="reasoner", max_length=64)
    data: dict[str, Any] = Field(default_factory=dict)


class DecisionRecord(DecisionStep):
    incident_id: str
    seq: int
    at: str
    day: str


class AgentDecisionsRepository(DynamoRepository):
    def last_seq(self, incident_id: str) -> int:
        page = self._query("incident_id = :id", {":id": incident_id}, limit=1, newest_first=True)
        return int(page.items[0]["seq"]) if page.items else 0

    def append(self, incident_id: str, steps: list[DecisionStep], at: str) -> list[DecisionRecord]:
        """Append ``steps`` after the incident's last one; concurrent writers each get their own numbers."""
        written: list[DecisionRecord] = []
        for step in steps:
            for _ in range(_APPEND_ATTEMPTS):
                record = DecisionRecord(
                    **step.model_dump(), incident_id=incident_id, seq=self.last_seq(incident_id) + 1, at=at, day=at[:10]
                )
                try:
                    self._put(record.model_dump(), "attribute_not_exists(#seq)", **{"#seq": "seq"})
                except ConditionFailedError:
                    continue
                written.append(record)
                break
            else:
                raise ConditionFailedError(f"could not append a step to {incident_id} after {_APPEND_ATTEMPTS} tries")
        return written

    def for_incident(
        self, incident_id: str, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[DecisionRecord], str | None]:
        """The incident's steps in order (a timeline), one page at a time."""
        page = self._query(
            "incident_id = :id", {":id": incident_id}, limit=limit, newest_first=False, page_token=page_token
        )
        return [DecisionRecord.model_validate(item) for item in page.items], page.next_token

    def for_day(
        self, day: str, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[DecisionRecord], str | None]:
        """Steps of every incident on ``day`` (YYYY-MM-DD), newest first, from the by_day index."""
        page = self._query(
            "#day = :day", {":day": day}, names={"#day": "day"}, index="by_day", limit=limit, page_token=page_token
        )
        return [DecisionRecord.model_validate(item) for item in page.items], page.next_token
