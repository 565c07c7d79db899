"""The simulated fleet adapter on moto: actions change state conditionally and settle ground truth."""

from __future__ import annotations

import pytest

from healops.fleet.actions import InvalidActionError
from healops.fleet.adapter import FleetAdapter, UnknownServiceError
from healops.fleet.simulated import SimulatedFleet


def adapter(repos) -> FleetAdapter:
    fleet, injections = repos
    return SimulatedFleet(fleet, injections)


def test_describe_shows_observable_state_without_faults_or_ground_truth(injector, repos):
    injector.inject("checkout", "bad_deploy", {})
    view = adapter(repos).describe("checkout")
    assert view.version == "v2.8.1" and view.previous_version == "v2.8.0"
    assert not hasattr(view, "faults")
    assert "bad_deploy" not in repr(view)


def test_rollback_fixes_bad_deploy_and_marks_the_injection_fixed(injector, repos):
    _, injections = repos
    injection_id = injector.inject("checkout", "bad_deploy", {})["injected"]["injection_id"]
    fleet = adapter(repos)
    assert fleet.apply("checkout", "restart").ended_faults == []
    outcome = fleet.apply("checkout", "rollback")
    assert outcome.ended_faults == ["bad_deploy"]
    assert fleet.describe("checkout").version == "v2.8.0"
    record = injections.get(injection_id)
    assert (record.status, record.ended_by) == ("fixed", "action:rollback")


def test_each_write_bumps_the_record_version(injector, repos):
    fleet = adapter(repos)
    before = fleet.describe("search").record_version
    fleet.apply("search", "scale_out", {"replicas": 2})
    after = fleet.describe("search")
    assert after.replicas == 6 and after.record_version == before + 1


def test_actions_refuse_what_the_state_does_not_allow(injector, repos):
    fleet = adapter(repos)
    with pytest.raises(InvalidActionError, match="no previous version"):
        fleet.apply("auth", "rollback")
    with pytest.raises(InvalidActionError, match="percent: Input should be less than or equal to 90"):
        fleet.apply("auth", "throttle", {"percent": 95})
    with pytest.raises(InvalidActionError, match="accepted: restart, scale_out"):
        fleet.apply("auth", "reboot")  # type: ignore[arg-type]
    with pytest.raises(UnknownServiceError):
        fleet.describe("nope")


@pytest.mark.parametrize(
    ("fault", "action", "ended"),
    [
        ("disk_exhaustion", "clear_disk", ["disk_exhaustion"]),
        ("dependency_failure", "failover", ["dependency_failure"]),
        ("service_crash", "restart", ["service_crash"]),
        ("memory_leak", "restart", []),
        ("error_storm", "restart", ["error_storm"]),
        ("cpu_spike", "scale_out", ["cpu_spike"]),
    ],
)
def test_action_semantics_match_the_ground_truth(injector, repos, fault, action, ended):
    injector.inject("inventory", fault, {})
    assert adapter(repos).apply("inventory", action).ended_faults == ended


def test_an_operation_retried_after_a_crash_is_not_applied_twice(injector, repos):
    # The remediator's act step crashed after the fleet changed; its retry carries the same operation id.
    fleet = adapter(repos)
    first = fleet.apply("search", "scale_out", {"replicas": 2}, operation_id="inc-1/0001-scale_out")
    replicas = fleet.describe("search").replicas
    again = fleet.apply("search", "scale_out", {"replicas": 2}, operation_id="inc-1/0001-scale_out")
    assert first.changed and not again.changed and "already applied" in again.message
    assert fleet.describe("search").replicas == replicas
    fleet.apply("search", "scale_out", {"replicas": 2}, operation_id="inc-1/0002-scale_out")
    assert fleet.describe("search").replicas == replicas + 2


class Died(Exception):
    """The remediator's worker killed at its timeout, right after a write reached the table."""


def test_an_act_that_died_after_its_write_leaves_the_fault_ended_in_its_record(injector, repos, aws_env):
    # The remediator timing out mid-action: the fleet's write went through, the function never got its answer.
    _, injections = repos
    injection_id = injector.inject("checkout", "service_crash", {})["injected"]["injection_id"]
    fleet = adapter(repos)
    events = aws_env["dynamodb"].meta.events

    def die(**_: object) -> None:
        raise Died

    for operation in ("PutItem", "TransactWriteItems"):
        events.register(f"after-call.dynamodb.{operation}", die, unique_id=f"die-{operation}")
    with pytest.raises(Died):
        fleet.apply("checkout", "restart", operation_id="inc-1/0001-restart")
    for operation in ("PutItem", "TransactWriteItems"):
        events.unregister(f"after-call.dynamodb.{operation}", unique_id=f"die-{operation}")
    assert "already applied" in fleet.apply("checkout", "restart", operation_id="inc-1/0001-restart").message
    record = injections.get(injection_id)
    assert (record.status, record.ended_by) == ("fixed", "action:restart")
