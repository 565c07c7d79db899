"""Incidents: idempotent creation, the lifecycle, optimistic versions; remediations: one record per attempt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.models.remediation import AttemptOutcome, GuardDecision
from healops.store.base import ConditionFailedError
from healops.store.incidents import IncidentRecord, IncidentsRepository, InvalidTransitionError
from healops.store.remediations import RemediationAttempt, RemediationsRepository, attempt_id, attempt_result


@pytest.fixture
def repos() -> Iterator[tuple[IncidentsRepository, RemediationsRepository]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, ["incidents", "remediations"])
        yield IncidentsRepository("incidents", client), RemediationsRepository("remediations", client)


def _incident(incident_id: str = "inc-checkout-1", **fields: Any) -> IncidentRecord:
    return IncidentRecord(incident_id=incident_id, service="checkout", kind="error_rate", **fields)


def test_second_create_of_the_same_incident_changes_nothing(repos: Any) -> None:
    incidents, _ = repos
    assert incidents.create_if_absent(_incident(summary="first")) is True
    assert incidents.create_if_absent(_incident(summary="second")) is False
    assert incidents.get("inc-checkout-1").summary == "first"


def test_lifecycle_allows_its_moves_and_refuses_others(repos: Any) -> None:
    incidents, _ = repos
    incidents.create_if_absent(_incident())
    moved = incidents.transition("inc-checkout-1", "remediating")
    assert moved.status == "remediating" and moved.version == 2
    resolved = incidents.transition("inc-checkout-1", "resolved")
    assert resolved.resolved_at is not None
    with pytest.raises(InvalidTransitionError, match="cannot go from resolved to escalated"):
        incidents.transition("inc-checkout-1", "escalated")
    assert incidents.transition("inc-checkout-1", "open").status == "open"  # the reopen rule


def test_a_stale_writer_loses(repos: Any) -> None:
    incidents, _ = repos
    incidents.create_if_absent(_incident())
    stale = incidents.get("inc-checkout-1")
    incidents.update(stale, summary="newer")
    with pytest.raises(ConditionFailedError):
        incidents.update(stale, summary="older")
    assert incidents.get("inc-checkout-1").summary == "newer"


def test_statuses_are_read_for_the_incidents_that_exist(repos: Any) -> None:
    incidents, _ = repos
    for n in range(3):
        incidents.create_if_absent(_incident(f"inc-checkout-{n}"))
    incidents.transition("inc-checkout-1", "resolved")
    wanted = ["inc-checkout-0", "inc-checkout-1", "inc-checkout-2", "inc-gone-9"]
    assert incidents.statuses(wanted) == {
        "inc-checkout-0": "open",
        "inc-checkout-1": "resolved",
        "inc-checkout-2": "open",
    }
    assert incidents.statuses([]) == {}


def test_queries_by_status_and_service_are_newest_first(repos: Any) -> None:
    incidents, _ = repos
    for i, opened in enumerate(["2026-11-24T10:00:00+00:00", "2026-11-24T11:00:00+00:00"]):
        incidents.create_if_absent(_incident(f"inc-{i}", opened_at=opened))
    assert [i["incident_id"] for i in incidents.by_status("open").items] == ["inc-1", "inc-0"]
    assert [i["incident_id"] for i in incidents.by_service("checkout").items] == ["inc-1", "inc-0"]


def test_an_attempt_is_recorded_once_and_listed_in_order(repos: Any) -> None:
    _, remediations = repos
    for n, action in enumerate(["restart_service", "scale_out"], start=1):
        attempt = RemediationAttempt(
            incident_id="inc-1",
            attempt_id=attempt_id(n, action),
            service="checkout",
            action=action,
            planner="offline",
            guard_decision="allow",
        )
        assert remediations.record(attempt) is True
        assert remediations.record(attempt) is False
    done = remediations.update(remediations.get("inc-1", "0001-restart_service"), verification="recovered")
    assert done.verification == "recovered"
    assert [a["action"] for a in remediations.for_incident("inc-1").items] == ["restart_service", "scale_out"]


def test_an_attempt_reads_as_its_verdict_once_verified_and_as_its_outcome_before() -> None:
    # A rollback skipped for want of an earlier version was never verified: "pending" would read as still running.
    assert attempt_result({"verification": "pending", "outcome": "skipped"}) == "skipped"
    assert attempt_result({"verification": "not_recovered", "outcome": "not_recovered"}) == "not_recovered"
    assert attempt_result({"verification": "recovered", "outcome": "verified"}) == "recovered"
    assert attempt_result({"verification": "skipped", "outcome": "dry_run"}) == "dry_run"
    assert attempt_result({}) == "started"


def test_attempts_read_as_typed_rows_and_an_older_row_reads_with_the_defaults(repos: Any) -> None:
    _, remediations = repos
    remediations.record(
        RemediationAttempt(
            incident_id="inc-2",
            attempt_id=attempt_id(1, "restart_service"),
            service="checkout",
            action="restart_service",
            planner="offline",
            guard_decision="needs_approval",
            incident_kind="errors",
            episode=1,
        )
    )
    # An attempt recorded before attempts carried their incident's kind and episode.
    remediations._put(
        {
            "incident_id": "inc-1",
            "attempt_id": attempt_id(1, "failover"),
            "service": "checkout",
            "action": "failover",
            "planner": "offline",
            "guard_decision": "allow",
            "outcome": "acted",
            "started_at": "2020-01-01T00:00:00+00:00",
        }
    )
    newest, older = remediations.latest_attempts("checkout", limit=10)
    assert (newest.guard_decision, newest.outcome) == (GuardDecision.NEEDS_APPROVAL, AttemptOutcome.STARTED)
    assert (newest.incident_kind, newest.episode) == ("errors", 1)
    assert (older.outcome, older.incident_kind, older.episode) == (AttemptOutcome.ACTED, "unknown", 0)
    assert [a.attempt_id for a in remediations.incident_attempts("inc-2")] == ["0001-restart_service"]
