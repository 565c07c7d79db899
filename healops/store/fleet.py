"""The fleet table (hash key ``service``): one :class:`ServiceState` per service.

Every write but the first is conditional on the ``record_version`` that was read and bumps it,
so two writers racing on one service cannot both win: the loser gets
:class:`~healops.store.base.ConditionFailedError` and re-reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from healops.models.fleet import ServiceState
from healops.store.base import ConditionFailedError, DynamoRepository, deserialize, serialize

__all__ = ["ConditionFailedError", "FleetRepository"]


class FleetRepository(DynamoRepository):
    redact_writes = False  # machine state (see DynamoRepository.redact_writes)

    def get(self, service: str) -> ServiceState | None:
        item = self._get({"service": service})
        return ServiceState.model_validate(item) if item else None

    def get_many(self, services: list[str]) -> list[ServiceState]:
        """The states of ``services`` that exist, by key (BatchGetItem), sorted by name."""
        items = self._batch_get([{"service": s} for s in services])
        return sorted((ServiceState.model_validate(i) for i in items), key=lambda s: s.service)

    def create(self, state: ServiceState) -> None:
        """Add a service that is not in the table yet."""
        self._put(state.model_dump(mode="json"), "attribute_not_exists(#s)", **{"#s": "service"})

    def replace(self, state: ServiceState, expected_version: int) -> ServiceState:
        """Write ``state`` if the stored one is still at ``expected_version``; returns what was written."""
        written = state.model_copy(update={"record_version": expected_version + 1})
        self._put(written.model_dump(mode="json"), "#v = :v", **{"#v": "record_version", ":v": expected_version})
        return written

    def replace_request(self, state: ServiceState, expected_version: int) -> dict[str, Any]:
        """:meth:`replace` as one write of a transaction (:func:`healops.store.base.transact`)."""
        written = state.model_copy(update={"record_version": expected_version + 1})
        return self.put_request(
            written.model_dump(mode="json"), "#v = :v", **{"#v": "record_version", ":v": expected_version}
        )

    def delete(self, service: str, expected_version: int) -> None:
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=serialize({"service": service}),
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "record_version"},
                ExpressionAttributeValues=serialize({":v": expected_version}),
            )
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailedError(f"{self.table_name}: {service} changed while being deleted") from exc

    def scan_items(self) -> Iterator[dict[str, Any]]:
        """Every raw item, page by page (the fleet table is one item per service: reading it all is the job)."""
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        while True:
            response = self.client.scan(**kwargs)
            for item in response.get("Items", []):
                yield deserialize(item)
            if not response.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def all(self) -> list[ServiceState]:
        return sorted((ServiceState.model_validate(i) for i in self.scan_items()), key=lambda s: s.service)
