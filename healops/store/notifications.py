"""Table ``<prefix>-notifications``: what each sink was told about an incident, keyed (incident_id, delivery_id).

The notifier (functions/notifier) writes one item per sink and event: delivered, failed (with the last
error, which never quotes a URL, key or secret) or skipped. ``delivery_id`` starts with the time, so an
incident's deliveries come back in order from a key query; the dashboard's incident page lists them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from healops.notify.dispatch import Delivery
from healops.store.base import DynamoRepository, Page


class DeliveryRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    incident_id: str
    delivery_id: str = Field(description="<ISO time>#<event>#<sink>#<random>, so deliveries sort by time")
    at: str
    event: str
    sink: str
    status: Literal["delivered", "failed", "skipped"]
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)


class NotificationsRepository(DynamoRepository):
    def record(self, deliveries: Sequence[Delivery], at: str) -> list[DeliveryRecord]:
        """One item per delivery that was tried (a sink that does not take the event is not recorded)."""
        written = []
        for delivery in deliveries:
            if delivery.status == "skipped":
                continue
            record = DeliveryRecord(
                incident_id=delivery.incident_id,
                delivery_id=f"{at}#{delivery.event}#{delivery.sink}#{uuid.uuid4().hex[:8]}",
                at=at,
                event=delivery.event,
                sink=delivery.sink,
                status=delivery.status,
                attempts=delivery.attempts,
                error=delivery.error[:500] if delivery.error else None,
            )
            self._put(record.model_dump())
            written.append(record)
        return written

    def for_incident(
        self, incident_id: str, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[DeliveryRecord], str | None]:
        page: Page = self._query(
            "incident_id = :id", {":id": incident_id}, limit=limit, newest_first=False, page_token=page_token
        )
        return [DeliveryRecord.model_validate(item) for item in page.items], page.next_token
