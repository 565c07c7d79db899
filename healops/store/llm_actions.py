"""Table ``<prefix>-llm_actions``: one item per reasoner call, keyed (incident_id, call_id).

``call_id`` starts with the call's time, so one incident's calls come back in order from a key
query. Prompts and responses are stored redacted (the reasoner redacts before writing, and the repository's
write redacts its free text again, as every repository's does: healops/store/base.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from healops.store.base import DynamoRepository, Page, collect_pages

MAX_TEXT_CHARS = 16_000


class LlmCallRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    incident_id: str
    call_id: str = Field(description="<ISO time>#<random>, so calls sort by time")
    episode: int = Field(default=0, description="the incident's episode (reopens) the call planned for")
    at: str
    provider: str
    model: str
    prompt: str = Field(default="", max_length=MAX_TEXT_CHARS)
    response: str = Field(default="", max_length=MAX_TEXT_CHARS)
    latency_ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_estimated: bool = Field(default=False, description="True when the provider reported no counts")
    cost_usd: float = 0.0
    validation: Literal["valid", "rejected", "error", "skipped"]
    errors: list[str] = Field(default_factory=list)
    fallback_taken: bool = False
    fallback_reason: str | None = None


class LlmActionsRepository(DynamoRepository):
    # The reasoner redacts before writing; the repository again, for any other writer.

    def record(self, call: LlmCallRecord) -> None:
        """Write one call; a second write of the same call id is refused."""
        self._put(call.model_dump(), "attribute_not_exists(#sk)", **{"#sk": "call_id"})

    def for_incident(
        self, incident_id: str, limit: int = 50, page_token: str | None = None
    ) -> tuple[list[LlmCallRecord], str | None]:
        page: Page = self._query(
            "incident_id = :id", {":id": incident_id}, limit=limit, newest_first=False, page_token=page_token
        )
        return [LlmCallRecord.model_validate(item) for item in page.items], page.next_token

    def all_for_incident(self, incident_id: str) -> list[LlmCallRecord]:
        """Every call recorded for ``incident_id``, oldest first (all pages)."""
        return collect_pages(lambda token: self.for_incident(incident_id, limit=100, page_token=token))

    def tokens_spent(self, incident_id: str) -> int:
        """Tokens (in + out) already spent on ``incident_id`` by every call recorded."""
        return sum(c.tokens_in + c.tokens_out for c in self.all_for_incident(incident_id))
