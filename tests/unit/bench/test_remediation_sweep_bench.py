"""``healops bench remediation-sweep``: real runs of the engine and the offline reasoner over the fleet model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from healops.bench.remediation_sweep import DETECTED_AS, QUIET_TICKS, Case, main, moto_tables, render, run_case
from healops.fleet.faults import FAULTS
from healops.fleet.simulator import MORNING_TICK
from tests.unit.fleet.sim import PEAK_BURST_TICK


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with moto_tables() as client:
        yield client


def test_every_fleet_fault_has_the_incident_kind_it_is_detected_as() -> None:
    assert set(DETECTED_AS) == set(FAULTS)


@pytest.mark.parametrize("fault", sorted(DETECTED_AS))
def test_every_fault_after_a_benign_deploy_is_still_resolved(dynamodb: Any, fault: str) -> None:
    # Any fault can follow a routine deploy by chance (1 in 2,000 ticks per service): the deploy makes a bad
    # deploy a suspect, but the fault's own fixes must still come within the attempt limit.
    case = run_case(dynamodb, fault, "auth", MORNING_TICK + QUIET_TICKS, seed=7, deploy_before=20)
    assert case.resolved, (case.diagnosis, case.tried)


def test_a_bad_deploy_is_a_deploy_the_reasoner_sees_and_rolls_back(dynamodb: Any) -> None:
    # The injector stamps a bad deploy's time; without it the reasoner saw only errors and restarted in vain.
    case = run_case(dynamodb, "bad_deploy", "checkout", PEAK_BURST_TICK, seed=7, deploy_before=None)
    assert case.resolved and case.diagnosis == "bad_deploy", case
    assert case.tried == ("rollback_deploy: recovered",)


def test_an_escalated_case_is_listed_with_when_what_was_diagnosed_and_what_was_tried(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tried = ("rollback_deploy: not_recovered", "restart_service: not_recovered", "scale_out: not_recovered")
    escalated = Case("dependency_failure", "search", 28_999_629, False, 18, "bad_deploy", tried)
    fixed = Case("cpu_spike", "search", 28_999_629, True, 3, "cpu_spike", ("scale_out: recovered",))
    render([escalated, fixed], shown=5)
    out = capsys.readouterr().out
    assert "escalated: dependency_failure on search at 15:09 (tick 28999629): bad_deploy;" in out
    assert "scale_out: not_recovered" in out
    assert out.rstrip().splitlines()[-1] == "remediations resolved: 1 of 2"


def test_the_sweep_prints_its_count_and_leaves_the_callers_endpoint_alone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    assert main(["--every", "1440", "--days", "1", "--faults", "cpu_spike", "error_storm"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == "remediations resolved: 16 of 16"
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"


def test_nonsense_arguments_are_refused_with_what_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--deploy-before", "500"])
    assert "accepted are 0 to 120 minutes" in capsys.readouterr().err
