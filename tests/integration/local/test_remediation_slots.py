"""Remediation slots over HTTP on the embedded cloud: the concurrency limit holds when guards race."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from healops.deploy.tables import create_tables
from healops.local.context import EmbeddedContext
from healops.local.dynamodb import IndexedGlobalSecondaryIndexes
from healops.local.server import EmbeddedCloud
from healops.store.slots import SERVICE_LOCK_PREFIX, RemediationSlots, service_lock_key
from tests.conftest import make_client

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def dynamodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("slots"))
    with EmbeddedCloud(ctx, extensions=[IndexedGlobalSecondaryIndexes()]) as cloud:
        client = make_client(cloud.endpoint_url, "dynamodb")
        yield client


@pytest.fixture
def statuses() -> dict[str, str]:
    return {}


@pytest.fixture
def slots(dynamodb: Any, statuses: dict[str, str], request: pytest.FixtureRequest) -> RemediationSlots:
    table = f"remediations-{request.node.name[-40:].replace('[', '-').replace(']', '')}"
    create_tables(dynamodb, {"remediations": table})
    return RemediationSlots(table, dynamodb, statuses.get, stale_after_s=600)


def test_racing_guards_take_no_more_slots_than_the_limit(slots: RemediationSlots, statuses: dict[str, str]) -> None:
    incidents = [f"inc-{n}" for n in range(12)]
    statuses.update(dict.fromkeys(incidents, "open"))
    taken: list[str] = []
    start = threading.Barrier(len(incidents))

    def guard(incident_id: str) -> None:
        start.wait()
        if slots.acquire(incident_id, 3, NOW).acquired:
            taken.append(incident_id)

    threads = [threading.Thread(target=guard, args=(i,)) for i in incidents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 3 and set(slots.holders()) == set(taken)


def test_a_holder_keeps_its_slot_and_a_released_slot_goes_to_the_next(
    slots: RemediationSlots, statuses: dict[str, str]
) -> None:
    statuses.update({"a": "remediating", "b": "remediating", "c": "open"})
    assert slots.acquire("a", 2, NOW).acquired and slots.acquire("b", 2, NOW + 1).acquired
    assert slots.acquire("a", 2, NOW + 2).acquired  # a retry or the next candidate of the same incident
    refused = slots.acquire("c", 2, NOW + 3)
    assert not refused.acquired and refused.holders == {"a": NOW, "b": NOW + 1}
    slots.release("a")
    slots.release("a")  # twice is harmless
    assert slots.acquire("c", 2, NOW + 4).acquired
    assert set(slots.holders()) == {"b", "c"}


def test_abandoned_slots_are_reclaimed(slots: RemediationSlots, statuses: dict[str, str]) -> None:
    statuses.update({"done": "resolved", "old": "remediating", "live": "remediating", "new": "open"})
    for incident_id in ("done", "old"):
        assert slots.acquire(incident_id, 3, NOW - 1000).acquired
    assert slots.acquire("live", 3, NOW).acquired
    # Full: "done" is resolved without giving its slot back, "old" outlived an execution's timeout.
    taken = slots.acquire("new", 3, NOW)
    assert taken.acquired and set(taken.holders) == {"live", "new"}


def test_release_before_any_slot_was_taken_is_harmless(slots: RemediationSlots) -> None:
    slots.release("nobody")
    assert slots.holders() == {}


def test_conditional_writes_are_atomic_when_requests_race(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto reads the current item, checks the condition, then writes; widen that gap so that two racing
    # requests would both pass ``attribute_not_exists`` if the endpoint did not serialise writes.
    import moto.dynamodb.models.table as moto_table

    real = moto_table.get_filter_expression

    class SlowCondition:
        def __init__(self, op: Any) -> None:
            self.op = op

        def expr(self, item: Any) -> bool:
            time.sleep(0.2)
            return self.op.expr(item)

    monkeypatch.setattr(moto_table, "get_filter_expression", lambda *a, **k: SlowCondition(real(*a, **k)))
    create_tables(dynamodb, {"incidents": "incidents-race"})
    created: list[str] = []
    start = threading.Barrier(2)

    def create(writer: str) -> None:
        start.wait()
        try:
            dynamodb.put_item(
                TableName="incidents-race",
                Item={"incident_id": {"S": "inc-1"}, "writer": {"S": writer}},
                ConditionExpression="attribute_not_exists(incident_id)",
            )
            created.append(writer)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass

    threads = [threading.Thread(target=create, args=(w,)) for w in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = dynamodb.get_item(TableName="incidents-race", Key={"incident_id": {"S": "inc-1"}})["Item"]
    assert len(created) == 1 and stored["writer"]["S"] == created[0]


def test_a_released_service_lock_stays_as_a_holderless_marker_that_no_attempt_query_returns(
    dynamodb: Any, slots: RemediationSlots, statuses: dict[str, str]
) -> None:
    """The lock item is kept after release, by design (healops/store/slots.py says why): it holds no holder, the
    next incident takes it as if it were absent, and the attempts' queries never see it."""
    from healops.store.remediations import RemediationsRepository

    statuses.update({"a": "remediating", "b": "open"})
    assert slots.hold_service("checkout", "a", NOW) is None
    assert slots.hold_service("checkout", "b", NOW + 1) == "a"
    slots.release_services("a", ["checkout"])
    marker = dynamodb.get_item(TableName=slots.table_name, Key=service_lock_key("checkout"), ConsistentRead=True)
    assert set(marker["Item"]) == {"incident_id", "attempt_id"}  # released: the key only, no holder
    assert slots.hold_service("checkout", "b", NOW + 2) is None
    taken = dynamodb.get_item(TableName=slots.table_name, Key=service_lock_key("checkout"), ConsistentRead=True)
    assert taken["Item"]["holder"]["S"] == "b"
    slots.release_services("b", ["checkout"])
    repository = RemediationsRepository(slots.table_name, dynamodb)
    assert repository.by_service("checkout").items == [] and repository.for_incident("a").items == []
    items = dynamodb.scan(TableName=slots.table_name)["Items"]
    assert [i["attempt_id"]["S"] for i in items] == [SERVICE_LOCK_PREFIX + "checkout"]  # one marker per service
