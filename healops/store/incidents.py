"""The incidents table (hash ``incident_id``; GSIs ``by_status`` and ``by_service`` on ``opened_at``).

An incident's lifecycle is ``open → remediating → resolved | escalated``, with a reopen rule
(``resolved → open``) and a human's way out of escalation (``escalated → resolved``). Creation
is a conditional write on the deterministic id, so repeated or concurrent detector runs open
one incident; every later change is conditional on the ``version`` read and bumps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from healops.models.incident import INCIDENT_ID_PATTERN, Severity
from healops.store.base import ConditionFailedError, DynamoRepository, Page

IncidentStatus = Literal["open", "remediating", "resolved", "escalated"]

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"remediating", "resolved", "escalated"}),
    "remediating": frozenset({"resolved", "escalated", "open"}),
    "resolved": frozenset({"open"}),
    "escalated": frozenset({"resolved", "open"}),
}


class InvalidTransitionError(ValueError):
    """A status change the lifecycle does not allow."""


def utc_now() -> str:
    return datetime.now(tz=UTC).isoformat()


class IncidentRecord(BaseModel):
    """One incident as stored; ``signals`` say in words and scores what opened it."""

    model_config = ConfigDict(extra="allow")

    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)
    service: str = Field(description="The root service the incident is attributed to")
    kind: str = Field(description="What was detected, e.g. error_rate, memory_exhaustion_predicted")
    status: IncidentStatus = "open"
    severity: Severity = Severity.MEDIUM
    opened_at: str = Field(default_factory=utc_now, description="ISO-8601 UTC; the GSIs' range key")
    updated_at: str = Field(default_factory=utc_now)
    summary: str = ""
    linked_services: list[str] = Field(default_factory=list, description="Downstream services showing symptoms")
    root_reason: str = Field(default="", description="Why the detector rooted the incident at its service")
    signals: list[dict[str, Any]] = Field(default_factory=list)
    predicted: bool = False
    eta_s: float | None = None
    evidence_key: str | None = Field(default=None, description="S3 key of the evidence window artifact")
    resolved_at: str | None = None
    escalated_at: str | None = None
    escalation_reason: str | None = Field(default=None, description="Why remediation handed it to humans, in words")
    reopened: int = Field(default=0, description="How many times the incident was reopened")
    merged_into: str | None = Field(
        default=None, description="The incident this one was merged into: a caller's symptoms of its dependency's fault"
    )
    queued: bool = Field(
        default=True,
        description="False from the write that opens (or reopens) the incident until its message is on the queue: "
        "the outbox the detector sweeps. Records from before the field count as queued.",
    )
    version: int = 1


class IncidentsRepository(DynamoRepository):
    def create_if_absent(self, record: IncidentRecord) -> bool:
        """Write ``record`` unless its id exists; True if this call created it."""
        try:
            self._put(record.model_dump(mode="json"), "attribute_not_exists(#id)", **{"#id": "incident_id"})
        except ConditionFailedError:
            return False
        return True

    def get(self, incident_id: str) -> IncidentRecord | None:
        item = self._get({"incident_id": incident_id})
        return IncidentRecord.model_validate(item) if item else None

    def statuses(self, incident_ids: Sequence[str]) -> dict[str, IncidentStatus]:
        """incident id -> status for those of ``incident_ids`` that exist: strongly consistent, BatchGetItem
        (100 ids a call), only the two attributes read."""
        items = self._batch_get(
            [{"incident_id": i} for i in incident_ids], projection="incident_id, #s", names={"#s": "status"}
        )
        return {i["incident_id"]: i["status"] for i in items}

    def transition(self, incident_id: str, to_status: IncidentStatus, **fields: Any) -> IncidentRecord:
        """Move to ``to_status`` (and set ``fields``) if the lifecycle allows it and nobody moved first.

        Raises :class:`InvalidTransitionError` for a move the lifecycle forbids, ``LookupError``
        for an unknown incident, :class:`ConditionFailedError` if another writer got there first.
        """
        current = self.get(incident_id)
        if current is None:
            raise LookupError(f"no incident {incident_id!r}")
        if to_status not in ALLOWED_TRANSITIONS[current.status]:
            allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current.status]))
            raise InvalidTransitionError(
                f"incident {incident_id} cannot go from {current.status} to {to_status} (allowed: {allowed})"
            )
        now = utc_now()
        stamps = {"resolved": {"resolved_at": now}, "escalated": {"escalated_at": now}}.get(to_status, {})
        return self.update(current, status=to_status, **stamps, **fields)

    def update(self, current: IncidentRecord, **fields: Any) -> IncidentRecord:
        """Write ``current`` with ``fields`` changed, conditional on its version; returns the new record."""
        data = {**current.model_dump(mode="json"), **fields, "updated_at": utc_now(), "version": current.version + 1}
        updated = IncidentRecord.model_validate(data)
        self._put(updated.model_dump(mode="json"), "#v = :v", **{"#v": "version", ":v": current.version})
        return updated

    def mark_queued(self, incident_id: str) -> None:
        """Note that the incident's message is on the queue. Not a versioned change: it races nobody's
        lifecycle move (a writer that read before it may put ``queued`` back, which costs one duplicate
        message, and the remediator ignores duplicates)."""
        self.client.update_item(
            TableName=self.table_name,
            Key={"incident_id": {"S": incident_id}},
            UpdateExpression="SET #q = :t",
            ConditionExpression="attribute_exists(incident_id)",
            ExpressionAttributeNames={"#q": "queued"},
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )

    def unqueued(self, older_than: str, pages: int = 10) -> list[IncidentRecord]:
        """Open incidents whose message never reached the queue, last changed before ``older_than``."""
        found: list[IncidentRecord] = []
        token: str | None = None
        for _ in range(pages):
            page = self.by_status("open", limit=100, page_token=token)
            for item in page.items:
                if item.get("queued") is False and str(item.get("updated_at", "")) < older_than:
                    found.append(IncidentRecord.model_validate(item))
            token = page.next_token
            if token is None:
                break
        return found

    def by_status(
        self,
        status: IncidentStatus,
        limit: int = 50,
        page_token: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Page:
        """Newest first; items are :class:`IncidentRecord` dicts; ``since``/``until`` bound ``opened_at``."""
        return self._by_index("by_status", "status", status, limit, page_token, since, until)

    def by_service(
        self,
        service: str,
        limit: int = 50,
        page_token: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Page:
        return self._by_index("by_service", "service", service, limit, page_token, since, until)

    def _by_index(
        self,
        index: str,
        attribute: str,
        value: str,
        limit: int,
        page_token: str | None,
        since: str | None,
        until: str | None,
    ) -> Page:
        # The range condition on opened_at keeps a time filter a key query (ISO strings sort as times).
        condition, values = "#k = :k", {":k": value}
        if since and until:
            condition, values = condition + " AND opened_at BETWEEN :a AND :b", {**values, ":a": since, ":b": until}
        elif since:
            condition, values = condition + " AND opened_at >= :a", {**values, ":a": since}
        elif until:
            condition, values = condition + " AND opened_at <= :b", {**values, ":b": until}
        return self._query(condition, values, names={"#k": attribute}, index=index, limit=limit, page_token=page_token)
