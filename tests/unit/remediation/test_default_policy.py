"""The deployed default policy: one file Terraform and Python both read, under which the catalog's standard fix on
the incident's own service runs without a human, and a human is asked for the rest (docs/architecture.md, "Who
approves what")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healops import paths
from healops.remediation.catalog import CATALOG
from healops.remediation.guard import GuardSnapshot, decide
from healops.remediation.policy import DEFAULT_POLICY, ApprovalRow, RemediationLimits, approval_table
from tests.unit.terraform_console import terraform_console
from tests.unit.test_terraform import _mirror_root, needs_terraform

NOW = 10_000.0
DEFAULT = RemediationLimits().guard_policy()


def verdict(action: str, service: str = "checkout", incident_service: str = "checkout", **kwargs: int) -> str:
    entry = CATALOG[action]
    snapshot = GuardSnapshot(now=NOW)
    found = decide(DEFAULT, snapshot, service, action, entry.blast_radius, entry.cooldown_s, incident_service, **kwargs)
    return found.decision


@pytest.mark.parametrize("action", sorted(CATALOG))
def test_every_standard_fix_on_the_incidents_own_service_runs_without_a_human(action: str) -> None:
    # Before: rollback_deploy and failover (blast radius HIGH) waited for a human on every service, so most bad
    # deploys were not fixed on a default deployment while the benchmarks (approvals granted) said they all were.
    left = {"replicas_left": 2} if action == "scale_in" else {}
    assert verdict(action, **left) == "allow"


@pytest.mark.parametrize("action", sorted(set(CATALOG) - {"no_op_observe"}))
def test_every_action_on_another_service_than_the_incidents_waits_for_a_human(action: str) -> None:
    assert verdict(action, service="payments", incident_service="checkout") == "needs_approval"


def test_watching_another_service_changes_nothing_and_needs_no_human() -> None:
    assert verdict("no_op_observe", service="payments", incident_service="checkout") == "allow"


def test_a_scale_in_below_the_floor_waits_for_a_human() -> None:
    assert DEFAULT.scale_in_floor == 2
    assert verdict("scale_in", replicas_left=1) == "needs_approval"


def test_the_operator_lists_actions_for_a_human_per_service_or_for_every_service() -> None:
    policy = RemediationLimits(approval_actions={"ledger-db": ["restart_service"], "*": ["failover"]}).guard_policy()
    snapshot = GuardSnapshot(now=NOW)

    def decided(service: str, action: str) -> str:
        return decide(policy, snapshot, service, action, CATALOG[action].blast_radius, 0, service).decision

    assert decided("ledger-db", "restart_service") == "needs_approval"
    assert decided("checkout", "restart_service") == "allow"
    assert decided("checkout", "failover") == "needs_approval"


def test_the_table_the_dashboard_shows_is_the_guards_answer_for_each_action() -> None:
    rows = {r.action: r for r in approval_table(DEFAULT)}
    assert set(rows) == set(CATALOG)
    assert rows["rollback_deploy"] == ApprovalRow("rollback_deploy", "auto", "approval", "")
    assert rows["scale_in"].also == "fewer than 2 replicas left"
    assert rows["no_op_observe"] == ApprovalRow("no_op_observe", "auto", "auto", "")
    operator = RemediationLimits(
        allowed_actions={"*": ["restart_service", "rollback_deploy"]},
        approval_actions={"*": ["rollback_deploy"], "auth": ["restart_service"]},
    )
    rows = {r.action: r for r in approval_table(operator.guard_policy())}
    assert rows["rollback_deploy"] == ApprovalRow("rollback_deploy", "approval", "approval", "")
    assert rows["restart_service"] == ApprovalRow("restart_service", "auto", "approval", "on auth")
    assert rows["failover"] == ApprovalRow("failover", "refused", "refused", "")


def test_the_python_defaults_are_the_file_and_it_allows_the_whole_catalog() -> None:
    on_disk = json.loads(Path(paths.REMEDIATION_POLICY_FILE).read_text())
    assert RemediationLimits().model_dump() == on_disk == DEFAULT_POLICY
    assert on_disk["allowed_actions"] == {"*": list(CATALOG)}


@needs_terraform
@pytest.mark.skipif(_mirror_root() is None, reason="no provider mirror under /opt (offline init impossible)")
def test_terraform_writes_the_same_file_to_the_policy_parameter_with_the_variables_overrides(tmp_path: Path) -> None:
    evaluate = terraform_console(tmp_path)
    assert json.loads(json.loads(evaluate("jsonencode(local.remediation_policy)"))) == DEFAULT_POLICY
    overridden = evaluate("jsonencode(local.remediation_policy)", "-var", "remediation_policy={max_concurrent=20}")
    assert json.loads(json.loads(overridden)) == {**DEFAULT_POLICY, "max_concurrent": 20}
