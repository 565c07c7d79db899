"""The injections table (hash ``injection_id``, GSI ``by_service`` on (service, injected_at)).

One record per injected fault: who asked, when, what, and the ground truth (which actions fix
it). Only the injector, the simulated fleet and the benchmarks' scorers read it; the detector
and the remediator never do.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from healops.store.base import DynamoRepository, Page, serialize

InjectionStatus = Literal["active", "cleared", "fixed", "expired"]


class GroundTruth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fixed_by: list[str]
    relieved_by: list[str] = Field(default_factory=list)


class InjectionRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    injection_id: str
    service: str
    fault: str
    params: dict[str, Any]
    injected_at: str
    requested_by: str
    started_tick: int
    until_tick: int | None = None
    duration_s: int | None = None
    ground_truth: GroundTruth
    status: InjectionStatus = "active"
    ended_at: str | None = None
    ended_by: str | None = None


class InjectionsRepository(DynamoRepository):
    def record(self, injection: InjectionRecord) -> None:
        self._put(injection.model_dump(mode="json"), "attribute_not_exists(#i)", **{"#i": "injection_id"})

    def record_request(self, injection: InjectionRecord) -> dict[str, Any]:
        """:meth:`record` as one write of a transaction (:func:`healops.store.base.transact`)."""
        return self.put_request(injection.model_dump(mode="json"), "attribute_not_exists(#i)", **{"#i": "injection_id"})

    def end_request(self, injection_id: str, status: InjectionStatus, ended_at: str, ended_by: str) -> dict[str, Any]:
        """The end of an injection the fleet's state still shows active, as one write of a transaction (no
        condition on its status: an injection the state shows active is ended with the state's change)."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": serialize({"injection_id": injection_id}),
                "UpdateExpression": "SET #s = :s, ended_at = :at, ended_by = :by",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": serialize({":s": status, ":at": ended_at, ":by": ended_by}),
            }
        }

    def get(self, injection_id: str) -> InjectionRecord | None:
        item = self._get({"injection_id": injection_id})
        return InjectionRecord.model_validate(item) if item else None

    def end(self, injection_id: str, status: InjectionStatus, ended_at: str, ended_by: str) -> None:
        """Mark an active injection as ended (a no-op when it already ended)."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table_name,
                Key=serialize({"injection_id": injection_id}),
                UpdateExpression="SET #s = :s, ended_at = :at, ended_by = :by",
                ConditionExpression="#s = :active",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=serialize(
                    {":s": status, ":at": ended_at, ":by": ended_by, ":active": "active"}
                ),
            )

    def by_service(self, service: str, limit: int = 50, page_token: str | None = None) -> Page:
        """A service's injections, newest first."""
        return self._query("service = :s", {":s": service}, index="by_service", limit=limit, page_token=page_token)
