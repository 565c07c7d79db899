"""The injector's core on moto tables: validation writes nothing, injections record ground truth."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from healops.fleet.definition import load_definition
from healops.fleet.injector import FaultConflictError, Injector, InjectorError, InjectorUnknownServiceError
from healops.local.context import EmbeddedContext
from healops.models import InjectorRequest
from healops.store.injections import InjectionsRepository
from tests.unit.fleet.conftest import table_items


def test_seed_creates_each_service_once_and_is_idempotent(injector, repos):
    fleet, _ = repos
    definition = load_definition().model_dump(mode="json")
    again = injector.seed_fleet(definition, 8)
    assert again["unchanged"] == 8 and again["created"] == 0
    grown = injector.seed_fleet(definition, 20)
    assert grown["created"] == 12 and grown["unchanged"] == 8
    assert fleet.get("payments-1").spec.depends_on == ("ledger-db-1", "auth-1")
    shrunk = injector.seed_fleet(definition, 8, allow_removal=True)
    assert shrunk["removed"] == 12
    assert len(fleet.all()) == 8


def test_a_seed_that_would_shrink_the_fleet_is_refused_and_deletes_nothing(injector, repos):
    fleet, _ = repos
    definition = load_definition().model_dump(mode="json")
    injector.seed_fleet(definition, 20)
    with pytest.raises(InjectorError) as refused:
        injector.seed_fleet(definition, 8)
    message = str(refused.value)
    assert message.startswith("fleet_size: 8 would remove 12 service(s)")
    assert "never deletes services" in message and "at least 20" in message
    assert len(fleet.all()) == 20


def test_seed_keeps_run_time_state_when_the_definition_changes(injector, repos):
    fleet, _ = repos
    injector.inject("search", "error_storm", {})
    definition = load_definition().model_dump(mode="json")
    definition["version"] = 2
    assert injector.seed_fleet(definition, 8)["updated"] == 8
    assert [f.fault for f in fleet.get("search").faults] == ["error_storm"]


def test_inject_records_who_when_what_and_the_ground_truth(injector, repos):
    fleet, injections = repos
    answer = injector.inject("checkout", "memory_leak", {"leak_mb_per_tick": 50}, None, "cli:alice")
    record = injections.get(answer["injected"]["injection_id"])
    assert record.service == "checkout" and record.requested_by == "cli:alice"
    assert record.params == {"leak_mb_per_tick": 50.0}
    assert record.ground_truth.fixed_by == ["rollback"]
    assert "restart" in record.ground_truth.relieved_by
    state = fleet.get("checkout")
    assert state.record_version == 2 and state.faults[0].fault == "memory_leak"
    # Ground truth lives in the injections table only.
    assert "fixed_by" not in str(state.model_dump())
    assert [i["injection_id"] for i in injections.by_service("checkout").items] == [record.injection_id]


def test_bad_deploy_changes_the_version_and_keeps_the_old_one_for_rollback(injector, repos):
    fleet, _ = repos
    injector.inject("payments", "bad_deploy", {"version": "v5.3.0"})
    state = fleet.get("payments")
    assert (state.version, state.previous_version) == ("v5.3.0", "v5.2.1")


def test_duration_sets_the_expiry_tick(injector, repos):
    answer = injector.inject("auth", "cpu_spike", {}, 180)
    assert answer["injected"]["until_tick"] - answer["injected"]["started_tick"] == 3


@pytest.mark.parametrize(
    ("service", "fault", "params", "message"),
    [
        ("nope", "error_storm", {}, "service: 'nope' is not in the fleet; accepted: auth, checkout"),
        ("checkout", "meteor", {}, "fault: unknown fault 'meteor'; accepted: bad_deploy, cpu_saturation"),
        ("checkout", "error_storm", {"error_pct": 500}, "error_pct: Input should be less than or equal to 100"),
        ("checkout", "error_storm", {"error_pct": "lots"}, "error_pct: Input should be a valid number"),
        ("checkout", "error_storm", {"colour": "red"}, "colour: Extra inputs are not permitted"),
        # Strict types: lax mode would have read each of these as a number and recorded it.
        (
            "checkout",
            "error_storm",
            {"error_pct": "40"},
            "error_pct: Input should be a valid number (got '40'; accepted: a JSON number from 5 to 100",
        ),
        (
            "checkout",
            "cpu_spike",
            {"extra_cpu_pct": True},
            "extra_cpu_pct: Input should be a valid number (got True; accepted: a JSON number from 10 to 70",
        ),
        (
            "checkout",
            "service_crash",
            {"exit_code": 139.0},
            "exit_code: Input should be a valid integer (got 139.0; accepted: a JSON integer from 1 to 255",
        ),
        ("checkout", "service_crash", {"exit_code": "139"}, "exit_code: Input should be a valid integer (got '139'"),
        ("checkout", "service_crash", {"exit_code": False}, "exit_code: Input should be a valid integer (got False"),
        (
            "checkout",
            "bad_deploy",
            {"version": 2},
            "version: Input should be a valid string (got 2; accepted: a string matching",
        ),
        (
            "checkout",
            "network_latency",
            {"added_ms": 400, "decay": "0.5"},
            "decay: Input should be a valid number (got '0.5'",
        ),
    ],
)
def test_bad_input_is_refused_with_its_field_and_the_fleet_is_unchanged(
    injector, aws_env, service, fault, params, message
):
    before = table_items(aws_env["dynamodb"], "fleet"), table_items(aws_env["dynamodb"], "injections")
    with pytest.raises(InjectorError) as raised:
        injector.inject(service, fault, params)
    assert message in str(raised.value)
    after = table_items(aws_env["dynamodb"], "fleet"), table_items(aws_env["dynamodb"], "injections")
    assert before == after


def test_a_json_integer_is_a_number_for_a_float_parameter(injector, repos):
    _, injections = repos
    answer = injector.inject("checkout", "error_storm", {"error_pct": 40})
    assert injections.get(answer["injected"]["injection_id"]).params == {"error_pct": 40.0}


def test_cli_param_values_pass_the_strict_parameters(injector, repos):
    from healops.cli import build_parser
    from healops.cli.inject import build_payload

    fleet, injections = repos
    argv = ["inject", "payments", "bad_deploy", "--param", "error_pct=40", "--param", "latency_factor=2.5"]
    args = build_parser().parse_args([*argv, "--param", "version=2", "--duration", "600"])
    request = InjectorRequest.model_validate(build_payload(args, "cli:test"))
    answer = injector.handle(request)
    assert injections.get(answer["injected"]["injection_id"]).params["error_pct"] == 40.0
    assert fleet.get("payments").version == "2"  # a string parameter keeps the text as typed


def test_a_conflicting_fault_is_refused_and_changes_nothing(injector, aws_env):
    first = injector.inject("search", "disk_exhaustion", {})
    before = table_items(aws_env["dynamodb"], "fleet")
    with pytest.raises(FaultConflictError, match="search already has an active disk_exhaustion") as raised:
        injector.inject("search", "disk_exhaustion", {"fill_pct_per_tick": 9})
    assert first["injected"]["injection_id"] in str(raised.value)
    assert table_items(aws_env["dynamodb"], "fleet") == before


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"action": "inject", "service": "checkout"}, "fault: required for action 'inject'"),
        ({"action": "inject", "service": "Bad Name!", "fault": "x"}, "service: String should match pattern"),
        ({"action": "inject", "service": "a", "fault": "b", "duration_s": 0}, "duration_s: Input should be greater"),
        ({"action": "clear"}, "service: required for action 'clear'"),
        (
            {"action": "inject", "service": "a", "fault": "b", "duration_s": "600"},
            "duration_s: Input should be a valid integer",
        ),
        (
            {"action": "inject", "service": "a", "fault": "b", "duration_s": True},
            "duration_s: Input should be a valid integer",
        ),
        (
            {"action": "inject", "service": "a", "fault": "b", "duration_s": 600.0},
            "duration_s: Input should be a valid integer",
        ),
        ({"action": "chaos", "rate": "0.5"}, "rate: Input should be a valid number"),
        ({"action": "seed", "definition": {}, "fleet_size": "8"}, "fleet_size: Input should be a valid integer"),
    ],
)
def test_malformed_requests_name_the_field(payload, message):
    from pydantic import ValidationError

    from healops.models import describe_validation_error

    with pytest.raises(ValidationError) as raised:
        InjectorRequest.model_validate(payload)
    assert message in describe_validation_error(raised.value)


@pytest.fixture
def atomic_item_writes(tmp_path) -> Iterator[None]:
    """DynamoDB's atomic conditional writes, as the embedded cloud gives them.

    moto alone checks a write's condition and then writes, unguarded, so two threads can both pass; the embedded
    cloud's DynamoDB extension (what the stack runs on) makes each item write and each transaction atomic.
    """
    from healops.local.dynamodb import models

    previous = models._active
    models.install_patches()
    models.activate(EmbeddedContext(port=0, state_dir=tmp_path))
    try:
        yield
    finally:
        models.activate(previous)


def test_concurrent_injections_on_one_service_one_wins_the_other_gets_a_conflict(atomic_item_writes, injector, repos):
    fleet, _ = repos
    results: list[object] = []
    barrier = threading.Barrier(2)
    real_get = fleet.get
    first_reads: set[int] = set()

    def slow_get(service):
        state = real_get(service)
        if threading.get_ident() not in first_reads:
            first_reads.add(threading.get_ident())
            barrier.wait(timeout=5)  # both read the same record_version before either writes
        return state

    fleet.get = slow_get  # type: ignore[method-assign]

    def attempt(level: float) -> None:
        try:
            results.append(injector.inject("inventory", "error_storm", {"error_pct": level}))
        except FaultConflictError as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in (20.0, 60.0)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    finally:
        barrier.abort()
        fleet.get = real_get  # type: ignore[method-assign]
    wins = [r for r in results if isinstance(r, dict)]
    conflicts = [r for r in results if isinstance(r, FaultConflictError)]
    assert len(wins) == 1 and len(conflicts) == 1
    assert "already has an active error_storm" in str(conflicts[0])
    state = fleet.get("inventory")
    assert len(state.faults) == 1 and state.record_version == 2


def test_clear_removes_the_fault_restores_a_bad_deploy_and_marks_the_record(injector, repos):
    fleet, injections = repos
    injected = injector.inject("payments", "bad_deploy", {})["injected"]
    with pytest.raises(InjectorError, match="payments has no active error_storm; active faults: bad_deploy"):
        injector.clear("payments", "error_storm")
    answer = injector.clear("payments", None, "cli:bob")
    assert answer["cleared"] == [{"injection_id": injected["injection_id"], "fault": "bad_deploy"}]
    state = fleet.get("payments")
    assert state.faults == () and state.version == "v5.2.1"
    record = injections.get(injected["injection_id"])
    assert (record.status, record.ended_by) == ("cleared", "cli:bob")


def test_list_answers_actions_fault_schemas_and_services(injector):
    listed = injector.list()
    assert "inject" in listed["actions"] and "seed" in listed["actions"]
    assert listed["faults"]["disk_exhaustion"]["params"]["fill_pct_per_tick"]["le"] == 25.0
    assert listed["services"][:2] == ["auth", "checkout"] and listed["service_count"] == 8
    assert "fixed_by" not in str(listed)


def test_status_shows_a_service_and_the_fleet(injector):
    injector.inject("edge", "error_storm", {"error_pct": 60})
    one = injector.status("edge")
    assert one["active_faults"][0]["fault"] == "error_storm"
    assert one["metrics"]["ErrorRate"] > 50 and one["health"] == "down"
    fleet = injector.status(None)
    assert fleet["service_count"] == 8
    assert fleet["services_with_faults"] == [{"service": "edge", "faults": ["error_storm"]}]
    with pytest.raises(InjectorUnknownServiceError):
        injector.status("nope")


def test_chaos_is_deterministic_given_the_seed_and_event_time(injector, repos):
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    fired = injector.chaos(at, rate=1.0)["injected"]
    assert fired["requested_by"] == "chaos"
    # Same seed and time on a fresh fleet: the same service and fault.
    injector.clear(fired["service"], None)
    again = injector.chaos(at, rate=1.0)["injected"]
    assert (again["service"], again["fault"]) == (fired["service"], fired["fault"])
    assert injector.chaos(at, rate=0.0)["injected"] is None


def _with_broken_record(injector: Injector, repos) -> Injector:
    """The same injector, its injections table gone: the record's half of every write fails."""
    fleet, injections = repos
    broken = InjectionsRepository("injections-gone", injections.client)
    return Injector(fleet, broken, injector.clock, seed=3)


def test_an_injection_whose_record_fails_leaves_the_fleet_unchanged(injector, repos):
    fleet, _ = repos
    before = fleet.get("search")
    with pytest.raises(ClientError):
        _with_broken_record(injector, repos).inject("search", "error_storm", {"error_pct": 40})
    after = fleet.get("search")
    assert after.faults == () and after.record_version == before.record_version


def test_a_clear_whose_record_fails_leaves_the_fault_in_place(injector, repos):
    fleet, injections = repos
    injected = injector.inject("search", "error_storm", {"error_pct": 40})["injected"]
    with pytest.raises(ClientError):
        _with_broken_record(injector, repos).clear("search", None, "cli:bob")
    assert [f.fault for f in fleet.get("search").faults] == ["error_storm"]
    assert injections.get(injected["injection_id"]).status == "active"
