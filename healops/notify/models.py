"""What a notification says: one event of one incident, in the words every sink renders."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NotificationEvent = Literal["escalated", "approval_waiting", "action_taken", "verification_failed", "resolved"]

HEADLINES: dict[str, str] = {
    "escalated": "needs a human",
    "approval_waiting": "waits for approval",
    "action_taken": "action taken",
    "verification_failed": "fix did not verify",
    "resolved": "resolved",
}


class Notification(BaseModel):
    """One event of an incident; ``incident_id`` is also PagerDuty's dedup key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: NotificationEvent
    incident_id: str = Field(min_length=1, max_length=255)
    service: str = Field(min_length=1)
    summary: str = Field(min_length=1, max_length=1024)
    tried: tuple[str, ...] = ()
    dashboard_url: str | None = None

    @property
    def headline(self) -> str:
        return f"[Heal-Ops] {self.service}: {HEADLINES[self.event]} ({self.incident_id})"

    def text(self) -> str:
        """Plain text for chat and e-mail: the headline, the summary, what was tried, the link."""
        lines = [self.headline, self.summary]
        if self.tried:
            lines.append("Tried: " + ", ".join(self.tried))
        if self.dashboard_url:
            lines.append(f"Dashboard: {self.dashboard_url}")
        return "\n".join(lines)
