"""Remediation slots: the guard's concurrency limit, held atomically in one DynamoDB item.

Counting the incidents being remediated and comparing with ``max_concurrent`` lets two guard steps
that run at once both see room and both act. A slot is instead taken by a conditional update of one
item (``holders``: incident id -> when it took the slot): an incident that holds one keeps it
(retries, the next candidate), a new one gets one only while fewer than ``max_concurrent`` are held.
The incident gives its slot back when it is resolved or escalated.

A holder that never gave its slot back (its execution timed out, its Lambda died) is not left to
block the fleet: a refused taker drops holders whose incident is no longer being remediated, or
that took their slot longer ago than an execution may run, and tries once more.

At most one incident is in flight per service, too (counting one that waits for a human's approval):
:meth:`RemediationSlots.hold_service` takes the service's lock item by a conditional put (strongly
consistent, unlike the ``by_service`` index, which two guards could both read before either wrote), kept
by its holder across candidates and given back with its slot; a stale holder is taken over as above.

The items live in the remediations table under a key no attempt can have (``#in-flight``), without
the ``by_service`` index's attributes, so they never show up as attempts. A released lock item stays, holderless
(its key only): a lock is taken on ``attribute_not_exists(holder)``, so a marker acts as no item; there is one
per service ever remediated, bounded by the fleet; and deleting it would take ``dynamodb:DeleteItem`` on the
remediations table, whose attempts are the audit trail, for the role that acts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

SLOTS_KEY = {"incident_id": {"S": "#in-flight"}, "attempt_id": {"S": "#holders"}}
SERVICE_LOCK_PREFIX = "#service#"


def service_lock_key(service: str) -> dict[str, Any]:
    return {"incident_id": {"S": "#in-flight"}, "attempt_id": {"S": SERVICE_LOCK_PREFIX + service}}


BUSY_STATUSES = frozenset({"open", "remediating"})


@dataclass(frozen=True)
class SlotResult:
    acquired: bool
    holders: dict[str, float]  # after the attempt: incident id -> when it took its slot (epoch seconds)


class RemediationSlots:
    def __init__(
        self,
        table_name: str,
        dynamodb_client: Any,
        incident_status: Callable[[str], str | None],
        stale_after_s: float,
    ) -> None:
        """``incident_status`` answers an incident's status (None if unknown); ``stale_after_s``: a slot
        held longer than this (the state machine's execution timeout) is abandoned."""
        self.table_name = table_name
        self.client = dynamodb_client
        self.incident_status = incident_status
        self.stale_after_s = stale_after_s

    def acquire(self, incident_id: str, max_concurrent: int, now: float) -> SlotResult:
        """Take (or keep) ``incident_id``'s slot if fewer than ``max_concurrent`` are held."""
        if self._take(incident_id, max_concurrent, now):
            return SlotResult(True, self.holders())
        self._ensure_item()  # the first taker ever finds no item
        if self._take(incident_id, max_concurrent, now):
            return SlotResult(True, self.holders())
        stale = [
            holder
            for holder, taken in self.holders().items()
            if now - taken > self.stale_after_s or self.incident_status(holder) not in BUSY_STATUSES
        ]
        for holder in stale:
            self.release(holder)
        acquired = bool(stale) and self._take(incident_id, max_concurrent, now)
        return SlotResult(acquired, self.holders())

    def hold_service(self, service: str, incident_id: str, now: float) -> str | None:
        """Take (or keep) ``service``'s lock for ``incident_id``: None when it holds it, else the incident that
        does (a stale holder, as for slots, is taken over once)."""
        if self._lock(service, incident_id, now):
            return None
        item = self.client.get_item(TableName=self.table_name, Key=service_lock_key(service), ConsistentRead=True)
        holder = item.get("Item", {}).get("holder", {}).get("S")
        taken = float(item.get("Item", {}).get("taken_at", {}).get("N", now))
        if holder is None:  # released between the two calls
            return None if self._lock(service, incident_id, now) else "another incident"
        stale = now - taken > self.stale_after_s or self.incident_status(holder) not in BUSY_STATUSES
        if stale and self._lock(service, incident_id, now, stale_holder=holder):
            return None
        return holder

    def release_services(self, incident_id: str, services: Iterable[str]) -> None:
        """Give back the locks ``incident_id`` holds among ``services`` (a lock another incident holds stays)."""
        for service in set(services):
            with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
                self.client.update_item(  # the item stays, without a holder (the role has no DeleteItem)
                    TableName=self.table_name,
                    Key=service_lock_key(service),
                    UpdateExpression="REMOVE holder, taken_at",
                    ConditionExpression="holder = :me",
                    ExpressionAttributeValues={":me": {"S": incident_id}},
                )

    def _lock(self, service: str, incident_id: str, now: float, stale_holder: str | None = None) -> bool:
        condition = "attribute_not_exists(holder) OR holder = :me"
        values = {":me": {"S": incident_id}}
        if stale_holder is not None:
            condition, values = "holder = :stale", {":stale": {"S": stale_holder}}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={**service_lock_key(service), "holder": {"S": incident_id}, "taken_at": {"N": repr(float(now))}},
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, incident_id: str) -> None:
        """Give the slot back (nothing happens if ``incident_id`` holds none)."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):  # no item: none held
            self.client.update_item(
                TableName=self.table_name,
                Key=SLOTS_KEY,
                UpdateExpression="REMOVE holders.#id",
                ConditionExpression="attribute_exists(holders)",
                ExpressionAttributeNames={"#id": incident_id},
            )

    def holders(self) -> dict[str, float]:
        item = self.client.get_item(TableName=self.table_name, Key=SLOTS_KEY, ConsistentRead=True).get("Item", {})
        return {k: float(v["N"]) for k, v in item.get("holders", {}).get("M", {}).items()}

    def _ensure_item(self) -> None:
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):  # another taker made it
            self.client.put_item(
                TableName=self.table_name,
                Item={**SLOTS_KEY, "holders": {"M": {}}},
                ConditionExpression="attribute_not_exists(incident_id)",
            )

    def _take(self, incident_id: str, max_concurrent: int, now: float) -> bool:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=SLOTS_KEY,
                UpdateExpression="SET holders.#id = if_not_exists(holders.#id, :now)",
                # size() of a missing map is false on DynamoDB, an error on moto: test the map first.
                ConditionExpression=(
                    "attribute_exists(holders.#id) OR (attribute_exists(holders) AND size(holders) < :max)"
                ),
                ExpressionAttributeNames={"#id": incident_id},
                ExpressionAttributeValues={":now": {"N": repr(float(now))}, ":max": {"N": str(max_concurrent)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
