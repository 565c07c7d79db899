"""``healops bench closed-loop``: the detector and the remediation together on the fleet model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from healops.bench.closed_loop import main, run_case
from healops.bench.prediction import ReadOptions
from healops.bench.remediation_sweep import moto_tables
from healops.fleet.simulator import MORNING_TICK

# Runs the closed loop over simulated days: outside the fast subset (make test-fast).
pytestmark = pytest.mark.slow


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with moto_tables() as dynamodb:
        yield dynamodb, boto3.client("sqs", region_name="us-east-1")


def test_a_dependency_failure_is_detected_fixed_by_failover_and_stays_fixed(clients: tuple[Any, Any]) -> None:
    # Its burn rate fires on for a few ticks after the failover: that must not reopen the incident. Read every 10
    # ticks, a read's first ticks predate the failover: handed back before them, they reopened it.
    case = run_case(*clients, "dependency_failure", "ledger-db", MORNING_TICK, seed=7, read=ReadOptions(10))
    assert case.outcome == "fixed", case
    assert case.opened_after is not None and case.opened_after < 10 and case.before == 0  # at the first read
    [handled] = case.handled
    assert handled.root == "ledger-db" and handled.tried[-1] == "failover: recovered"


def test_a_benign_traffic_burst_after_the_fix_does_not_count_against_it(clients: tuple[Any, Any]) -> None:
    # Failed over at 15:25; the last watched tick falls in a benign burst (1.4x load, CPU ~90%: "degraded" by the
    # model's rule, as for any service in a burst). Counted, it made this fixed case "resolved, not fixed".
    case = run_case(*clients, "dependency_failure", "checkout", 29001085, seed=7)
    assert case.outcome == "fixed", case
    assert case.unhealthy_at_end == 0 and case.handled[-1].tried[-1] == "failover: recovered"


def test_a_leak_with_nothing_to_roll_back_to_is_relieved_until_it_keeps_coming_back_then_handed_to_humans(
    clients: tuple[Any, Any],
) -> None:
    # Each relief verifies and the leak goes on: the detector reopens the incident, the planner tries what it has
    # not tried yet, and past the reopen limit the incident goes to humans (it had stayed resolved while the
    # service ran out of memory again).
    case = run_case(*clients, "memory_leak", "search", MORNING_TICK, seed=7)
    assert case.outcome == "handed to humans", case
    assert [h.episode for h in case.handled] == [0, 1, 2, 3]
    assert [h.route for h in case.handled] == ["resolved", "resolved", "resolved", "escalate"]
    assert case.handled[0].tried[-1] == "restart_service: recovered"
    assert case.handled[1].tried[-1] == "raise_memory_limit: recovered"
    assert case.handled[3].tried == ()


def test_a_leak_shipped_with_a_version_is_rolled_back_and_stays_fixed(clients: tuple[Any, Any]) -> None:
    # Deployed 10 minutes before the leak began: the predicted exhaustion is rolled back, which ends the leak.
    case = run_case(*clients, "memory_leak", "search", MORNING_TICK, seed=7, deploy_before=10)
    assert case.outcome == "fixed", case
    [handled] = case.handled
    assert handled.kind == "memory_exhaustion_predicted" and handled.tried == ("rollback_deploy: recovered",)


def test_the_bench_prints_its_table_and_summary(clients: tuple[Any, Any], capsys: pytest.CaptureFixture) -> None:
    assert main(["--every", "1440", "--faults", "error_storm"]) == 0
    out = capsys.readouterr().out
    assert "faults fixed and healthy at the end: 8 of 8; handed to humans: 0" in out
    with pytest.raises(SystemExit):
        main(["--deploy-before", "121"])
    assert "accepted are 0 to 120 minutes" in capsys.readouterr().err
