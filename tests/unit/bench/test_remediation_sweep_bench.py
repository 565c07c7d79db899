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

# Runs the sweep over every fault and service: outside the fast subset (make test-fast).
pytestmark = pytest.mark.slow


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
    escalated = Case("dependency_failure", "search", 28_999_629, "escalate", 18, "bad_deploy", tried, 0)
    waiting = Case("bad_deploy", "edge", 28_999_629, "await_approval", 0, "bad_deploy", ("rollback: started",), 0)
    fixed = Case("cpu_spike", "search", 28_999_629, "resolved", 3, "cpu_spike", ("scale_out: recovered",), 1)
    render([escalated, waiting, fixed], shown=5, policy="the deployed default policy")
    out = capsys.readouterr().out
    assert "escalated: dependency_failure on search at 15:09 (tick 28999629): bad_deploy;" in out
    assert "awaiting approval: bad_deploy on edge at 15:09" in out
    assert "scale_out: not_recovered" in out
    assert out.splitlines()[0] == "policy: the deployed default policy; no human answers an approval"
    assert out.rstrip().splitlines()[-2:] == [
        "remediations resolved: 1 of 3",
        "handed to humans: 2 (1 awaiting approval, 1 escalated); actions on services not at fault: 1 (in 1 cases)",
    ]


def test_the_sweep_prints_its_count_and_leaves_the_callers_endpoint_alone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    assert main(["--every", "1440", "--days", "1", "--faults", "cpu_spike", "error_storm"]) == 0
    out = capsys.readouterr().out
    assert "remediations resolved: 16 of 16" in out.splitlines()
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"


def test_nonsense_arguments_are_refused_with_what_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--deploy-before", "500"])
    assert "accepted are 0 to 120 minutes" in capsys.readouterr().err


def test_a_bad_deploy_on_a_service_others_call_is_rolled_back_without_a_human(dynamodb: Any) -> None:
    # checkout is called by edge: the deployed default policy used to send its rollback (blast radius HIGH) to a
    # human, and this bench (approvals granted at once) reported it fixed all the same.
    case = run_case(dynamodb, "bad_deploy", "checkout", MORNING_TICK + QUIET_TICKS, seed=7, deploy_before=None)
    assert case.route == "resolved" and case.tried == ("rollback_deploy: recovered",), case
    assert case.elsewhere == 0


def test_a_policy_other_than_the_deployed_default_is_named_in_the_figures(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{"approval_blast_radius": "NONE"}')  # a human approves everything, watching included
    assert main(["--every", "1440", "--days", "1", "--faults", "disk_exhaustion", "--policy", str(policy)]) == 0
    out = capsys.readouterr().out
    assert f"policy: the policy in {policy}, NOT the deployed default" in out
    assert "handed to humans: 8 (8 awaiting approval, 0 escalated)" in out
    policy.write_text('{"approval_blast_radius": "SOME"}')
    with pytest.raises(SystemExit):
        main(["--policy", str(policy)])
    assert "approval_blast_radius" in capsys.readouterr().err
