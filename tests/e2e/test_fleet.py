"""The fleet through the deployed stack: seeded by Terraform, faults injected and cleared by the injector."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from healops.deploy.stack import StackInfo
from healops.fleet.definition import expand, load_definition
from tests.e2e.conftest import TEST_VARIABLES
from tests.helpers import wait_for


def invoke(lam: Any, payload: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    response = lam.invoke(FunctionName="injector", Payload=json.dumps(payload))
    return "FunctionError" not in response, json.loads(response["Payload"].read())


def fleet_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName=table, ConsistentRead=True)["Items"], key=lambda i: i["service"]["S"])


def table_snapshot(dynamodb: Any, tables: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Every item of the fleet and injections tables, whole (record_version and updated_at included)."""
    return {
        key: sorted(dynamodb.scan(TableName=tables[key], ConsistentRead=True)["Items"], key=str)
        for key in ("fleet", "injections")
    }


@contextmanager
def fleet_writers_paused(stack: StackInfo, aws: Any, quiet_s: float = 3.0) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Stop what writes the fleet in the background, and yield the tables once they stop changing.

    The tick rule drives metrics_generator (its benign deploys bump a service's version) and the
    detector; alarm state changes drive the detector too, whose incidents start remediations.
    With both rules disabled, the tables settle once in-flight work ends: from then on any change
    is someone else's write. The rules are enabled again afterwards.
    """
    events, dynamodb = aws("events"), aws("dynamodb")
    tables = stack.outputs["dynamodb_table_names"]
    rules = [stack.outputs["eventbridge_rule_names"][key] for key in ("tick", "alarm-state-change")]
    for rule in rules:
        events.disable_rule(Name=rule)
    try:
        deadline = time.monotonic() + 90
        last, changed_at = table_snapshot(dynamodb, tables), time.monotonic()
        while time.monotonic() - changed_at < quiet_s:
            assert time.monotonic() < deadline, "the fleet tables kept changing with the tick and alarm rules off"
            time.sleep(0.5)
            current = table_snapshot(dynamodb, tables)
            if current != last:
                last, changed_at = current, time.monotonic()
        yield last
    finally:
        for rule in rules:
            events.enable_rule(Name=rule)


def recent_max(cloudwatch: Any, namespace: str, service: str, metric: str, seconds: int = 3) -> float | None:
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": "Service", "Value": service}],
        StartTime=now - timedelta(seconds=seconds),
        EndTime=now + timedelta(seconds=1),
        Period=1,
        Statistics=["Maximum"],
    )["Datapoints"]
    return max((p["Maximum"] for p in points), default=None)


def test_terraform_seeded_the_fleet_and_list_shows_it(stack: StackInfo, aws: Any) -> None:
    items = fleet_items(aws("dynamodb"), stack.outputs["dynamodb_table_names"]["fleet"])
    size = TEST_VARIABLES["fleet_size"]
    assert [i["service"]["S"] for i in items] == sorted(s.name for s in expand(load_definition(), size))
    assert {"edge", "checkout", "payments", "ledger-db", "inventory", "search", "auth", "notifications"} <= {
        i["service"]["S"] for i in items
    }
    ok, listed = invoke(aws("lambda"), {"action": "list"})
    assert ok and listed["service_count"] == size and "memory_leak" in listed["faults"]


def test_injected_fault_moves_the_metric_and_writes_error_logs_then_clearing_recovers(
    stack: StackInfo, aws: Any
) -> None:
    lam, cloudwatch, logs = aws("lambda"), aws("cloudwatch"), aws("logs")
    namespace = stack.outputs["cloudwatch_metrics_namespace"]
    ok, answer = invoke(
        lam,
        {
            "action": "inject",
            "service": "notifications",
            "fault": "error_storm",
            "params": {"error_pct": 70},
            "duration_s": 86400,
            "requested_by": "e2e",
        },
    )
    assert ok, answer
    wait_for(lambda: (recent_max(cloudwatch, namespace, "notifications", "ErrorRate") or 0) > 60, timeout=30)

    def error_logs() -> list[dict[str, Any]]:
        events = logs.filter_log_events(
            logGroupName="/healops/services/notifications", filterPattern='"redis.exceptions.ConnectionError"'
        )["events"]
        return [json.loads(e["message"]) for e in events]

    found = wait_for(error_logs, timeout=30)
    assert found[0]["level"] == "ERROR" and found[0]["exception"]["stacktrace"].startswith("Traceback")

    ok, cleared = invoke(lam, {"action": "clear", "service": "notifications", "requested_by": "e2e"})
    assert ok and cleared["cleared"][0]["injection_id"] == answer["injected"]["injection_id"]
    wait_for(lambda: (recent_max(cloudwatch, namespace, "notifications", "ErrorRate", 2) or 100) < 5, timeout=30)


def test_bad_input_is_a_function_error_naming_the_field_and_the_fleet_is_unchanged(stack: StackInfo, aws: Any) -> None:
    lam, dynamodb = aws("lambda"), aws("dynamodb")
    bad = [
        ({"action": "inject", "service": "ghost", "fault": "error_storm"}, "service: 'ghost' is not in the fleet"),
        ({"action": "inject", "service": "auth", "fault": "meteor"}, "fault: unknown fault 'meteor'"),
        (
            {"action": "inject", "service": "auth", "fault": "disk_exhaustion", "params": {"fill_pct_per_tick": 80}},
            "fill_pct_per_tick: Input should be less than or equal to 25",
        ),
        (
            {"action": "inject", "service": "auth", "fault": "cpu_spike", "params": {"extra_cpu_pct": "high"}},
            "extra_cpu_pct: Input should be a valid number",
        ),
        # Wrong types are refused, not coerced: "40" is not 40, true is not 1, 139.0 is not an exit code.
        (
            {"action": "inject", "service": "auth", "fault": "cpu_spike", "params": {"extra_cpu_pct": "40"}},
            "extra_cpu_pct: Input should be a valid number (got '40'; accepted: a JSON number from 10 to 70",
        ),
        (
            {"action": "inject", "service": "auth", "fault": "error_storm", "params": {"error_pct": True}},
            "error_pct: Input should be a valid number (got True",
        ),
        (
            {"action": "inject", "service": "auth", "fault": "service_crash", "params": {"exit_code": 139.0}},
            "exit_code: Input should be a valid integer (got 139.0; accepted: a JSON integer from 1 to 255",
        ),
        (
            {"action": "inject", "service": "auth", "fault": "cpu_spike", "duration_s": "600"},
            "duration_s: Input should be a valid integer",
        ),
    ]
    tables = stack.outputs["dynamodb_table_names"]
    with fleet_writers_paused(stack, aws) as before:
        for payload, message in bad:
            ok, error = invoke(lam, payload)
            assert not ok and message in error["errorMessage"], error
        after = table_snapshot(dynamodb, tables)
    # Whole records: a write that only bumped record_version or updated_at would show here.
    assert after == before


def test_concurrent_injections_on_one_service_one_wins_and_the_other_gets_a_conflict(aws: Any) -> None:
    lam = aws("lambda")
    results: list[tuple[bool, dict[str, Any]]] = []
    barrier = threading.Barrier(2)

    def inject() -> None:
        barrier.wait(timeout=10)
        results.append(invoke(lam, {"action": "inject", "service": "inventory", "fault": "disk_exhaustion"}))

    threads = [threading.Thread(target=inject) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(ok for ok, _ in results) == [False, True]
    error = next(body for ok, body in results if not ok)
    assert "inventory already has an active disk_exhaustion" in error["errorMessage"]
    ok, _ = invoke(lam, {"action": "clear", "service": "inventory", "fault": "disk_exhaustion"})
    assert ok


def test_healops_inject_command_injects_shows_and_refuses_on_the_running_stack(
    stack_options: Any, monkeypatch: Any, capsys: Any
) -> None:
    from healops.cli import main

    monkeypatch.setenv("HEALOPS_STATE_DIR", str(stack_options.state_dir))
    assert main(["inject", "search", "network_latency", "--param", "added_ms=600", "--duration", "600"]) == 0
    assert '"fault": "network_latency"' in capsys.readouterr().out
    assert main(["inject", "--status", "search"]) == 0
    assert '"network_latency"' in capsys.readouterr().out
    assert main(["inject", "search", "network_latency"]) == 1
    assert "already has an active network_latency" in capsys.readouterr().err
    assert main(["inject", "--clear", "search"]) == 0
