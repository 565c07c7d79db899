"""The remediations table (hash ``incident_id``, range ``attempt_id``; GSI ``by_service`` on ``started_at``).

One item per attempt: what was proposed, by which planner, the guard's verdict and reasons,
what ran, the metrics before and after, and the verification result. ``attempt_id`` is
``<attempt number, 4 digits>-<action>`` so an incident's attempts sort in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from healops.models.remediation import AttemptOutcome, GuardDecision
from healops.store.base import ConditionFailedError, DynamoRepository, Page
from healops.store.incidents import utc_now

Verification = Literal["pending", "recovered", "not_recovered", "skipped"]


def attempt_id(number: int, action: str) -> str:
    return f"{number:04d}-{action}"


def attempt_result(item: Mapping[str, Any]) -> str:
    """What became of an attempt, in a word: its verification's verdict once there is one, else its outcome (an
    action skipped for an unmet precondition, refused, denied, ... was never verified: "pending" would mislead)."""
    verification = item.get("verification")
    if verification in ("recovered", "not_recovered"):
        return str(verification)
    return str(item.get("outcome") or verification or "started")


class RemediationAttempt(BaseModel):
    model_config = ConfigDict(extra="allow")

    incident_id: str
    attempt_id: str
    service: str
    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    planner: str = Field(description="offline, or the LLM provider and model that proposed it")
    rationale: str = ""
    guard_decision: GuardDecision
    guard_reasons: list[str] = Field(default_factory=list)
    dry_run: bool = False
    started_at: str = Field(default_factory=utc_now)
    ended_at: str | None = None
    metrics_before: dict[str, float] = Field(default_factory=dict)
    metrics_after: dict[str, float] = Field(default_factory=dict)
    verification: Verification = "pending"
    outcome: AttemptOutcome = AttemptOutcome.STARTED
    error: str | None = None
    view_before: dict[str, Any] | None = Field(
        default=None, description="the service's undoable fields before the action (catalog.UNDOABLE)"
    )
    compensation: str | None = Field(default=None, description="how an action that did not help was undone")
    # The incident it served: its kind (for the planner's history) and its episode (0 until it reopens). An attempt
    # recorded before these were written reads as an unknown kind of the first episode.
    incident_kind: str = "unknown"
    episode: int = 0


class RemediationsRepository(DynamoRepository):
    # The Step Functions task token is handed back to complete the approval: stored as given.
    verbatim = ("task_token",)

    def record(self, attempt: RemediationAttempt) -> bool:
        """Write a new attempt; False if that attempt is already recorded (a retried step)."""
        try:
            self._put(
                attempt.model_dump(mode="json"),
                "attribute_not_exists(#i) AND attribute_not_exists(#a)",
                **{"#i": "incident_id", "#a": "attempt_id"},
            )
        except ConditionFailedError:
            return False
        return True

    def get(self, incident_id: str, attempt: str) -> RemediationAttempt | None:
        item = self._get({"incident_id": incident_id, "attempt_id": attempt})
        return RemediationAttempt.model_validate(item) if item else None

    def update(self, attempt: RemediationAttempt, **fields: Any) -> RemediationAttempt:
        updated = RemediationAttempt.model_validate({**attempt.model_dump(mode="json"), **fields})
        self._put(updated.model_dump(mode="json"))
        return updated

    def answer_approval(self, attempt: RemediationAttempt, decision: str, by: str, at: str) -> bool:
        """Record a human's ``decision`` (approved or denied) on ``attempt`` in one conditional write: only while it
        waits for a human with the task token that was read, and nobody answered yet. True if this answer is the
        one recorded; False if another came first (nothing of that one is touched)."""
        token = getattr(attempt, "task_token", None)
        if not token:
            return False
        try:
            self._update(
                {"incident_id": attempt.incident_id, "attempt_id": attempt.attempt_id},
                {"approval": decision, "approval_by": by, "approval_at": at},
                "#gd = :needs AND #tt = :token AND (attribute_not_exists(#ap) OR attribute_type(#ap, :null))",
                **{"#gd": "guard_decision", "#tt": "task_token", "#ap": "approval"},
                **{":needs": "needs_approval", ":token": token, ":null": "NULL"},
            )
        except ConditionFailedError:
            return False
        return True

    def withdraw_approval(self, attempt: RemediationAttempt, by: str, at: str, error: str) -> None:
        """Take back an answer Step Functions refused (the execution had moved on): only the one ``by`` gave at
        ``at``; a later answer, or the remediator's own writes, stay."""
        try:
            self._update(
                {"incident_id": attempt.incident_id, "attempt_id": attempt.attempt_id},
                {"approval_error": error},
                "#by = :by AND #at = :at",
                remove=("approval", "approval_by", "approval_at"),
                **{"#by": "approval_by", "#at": "approval_at", ":by": by, ":at": at},
            )
        except ConditionFailedError:
            return

    def for_incident(self, incident_id: str, limit: int = 100, page_token: str | None = None) -> Page:
        """An incident's attempts, first to last."""
        return self._query(
            "incident_id = :i", {":i": incident_id}, limit=limit, newest_first=False, page_token=page_token
        )

    def incident_attempts(self, incident_id: str, limit: int = 100) -> list[RemediationAttempt]:
        """An incident's attempts, first to last, as typed rows (the first ``limit``)."""
        return [RemediationAttempt.model_validate(item) for item in self.for_incident(incident_id, limit).items]

    def latest_attempts(self, service: str, limit: int) -> list[RemediationAttempt]:
        """A service's latest ``limit`` attempts, newest first, as typed rows."""
        return [RemediationAttempt.model_validate(item) for item in self.by_service(service, limit).items]

    def by_service(
        self, service: str, limit: int = 50, page_token: str | None = None, since: str | None = None
    ) -> Page:
        """A service's attempts, newest first (for cooldowns, the breaker and the dashboard); ``since``
        bounds ``started_at`` in the key condition."""
        condition, values = "#s = :s", {":s": service}
        if since:
            condition, values = condition + " AND started_at >= :since", {**values, ":since": since}
        return self._query(
            condition, values, names={"#s": "service"}, index="by_service", limit=limit, page_token=page_token
        )
