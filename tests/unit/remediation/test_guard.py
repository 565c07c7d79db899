"""The guard's policy: each refusal, its order, approval by blast radius, dry run."""

from __future__ import annotations

import pytest

from healops.remediation.guard import BlastRadius, GuardPolicy, GuardSnapshot, decide

POLICY = GuardPolicy(
    allowed_actions={
        "*": frozenset({"restart_service", "scale_out", "no_op_observe", "rollback_deploy"}),
        "ledger-db": frozenset({"no_op_observe"}),
    },
    max_concurrent=2,
    cooldown_s=300,
    breaker_failures=3,
    breaker_window_s=3600,
    approval_blast_radius=BlastRadius.HIGH,
)
NOW = 10_000.0


def test_allowed_action_on_a_quiet_service_runs() -> None:
    verdict = decide(POLICY, GuardSnapshot(now=NOW), "checkout", "restart_service", BlastRadius.LOW)
    assert verdict.decision == "allow" and verdict.may_act


def test_action_off_the_allow_list_is_denied_and_a_service_list_overrides_the_default() -> None:
    assert decide(POLICY, GuardSnapshot(now=NOW), "checkout", "failover", BlastRadius.HIGH).decision == "deny"
    verdict = decide(POLICY, GuardSnapshot(now=NOW), "ledger-db", "restart_service", BlastRadius.LOW)
    assert verdict.decision == "deny"
    assert "not on the allow-list for ledger-db" in verdict.reasons[0]


def test_breaker_opens_after_k_failures_within_the_window_only() -> None:
    inside = GuardSnapshot(now=NOW, failures_at={"checkout": [NOW - 10, NOW - 100, NOW - 3000]})
    verdict = decide(POLICY, inside, "checkout", "restart_service", BlastRadius.LOW)
    assert verdict.decision == "deny" and "circuit breaker open" in verdict.reasons[0]
    one_too_old = GuardSnapshot(now=NOW, failures_at={"checkout": [NOW - 10, NOW - 100, NOW - 4000]})
    assert decide(POLICY, one_too_old, "checkout", "restart_service", BlastRadius.LOW).decision == "allow"


def test_cooldown_refuses_a_second_action_too_soon_and_says_how_long_remains() -> None:
    verdict = decide(
        POLICY, GuardSnapshot(now=NOW, last_action_at={"checkout": NOW - 100}), "checkout", "scale_out", BlastRadius.LOW
    )
    assert verdict.decision == "deny" and "200 s to go" in verdict.reasons[0]
    later = GuardSnapshot(now=NOW, last_action_at={"checkout": NOW - 300})
    assert decide(POLICY, later, "checkout", "scale_out", BlastRadius.LOW).decision == "allow"


def test_an_action_with_a_longer_cooldown_than_the_policy_waits_its_own() -> None:
    snapshot = GuardSnapshot(now=NOW, last_action_at={"checkout": NOW - 400})
    # The policy's 300 s are over, rollback_deploy's own 900 s are not.
    verdict = decide(POLICY, snapshot, "checkout", "rollback_deploy", BlastRadius.HIGH, action_cooldown_s=900)
    assert verdict.decision == "deny" and "500 s to go (cooldown 900 s, rollback_deploy's own)" in verdict.reasons[0]
    # A shorter cooldown of its own never shortens the policy's.
    short = GuardSnapshot(now=NOW, last_action_at={"checkout": NOW - 200})
    verdict = decide(POLICY, short, "checkout", "no_op_observe", BlastRadius.NONE, action_cooldown_s=0)
    assert verdict.decision == "deny" and "(cooldown 300 s, the policy's)" in verdict.reasons[0]
    assert decide(POLICY, snapshot, "checkout", "restart_service", BlastRadius.LOW, action_cooldown_s=300).may_act


def test_concurrency_limit_counts_in_flight_remediations() -> None:
    verdict = decide(POLICY, GuardSnapshot(now=NOW, in_flight=2), "checkout", "scale_out", BlastRadius.LOW)
    assert verdict.decision == "deny" and "at most 2 at once" in verdict.reasons[0]


def test_high_blast_radius_needs_a_human() -> None:
    verdict = decide(POLICY, GuardSnapshot(now=NOW), "checkout", "rollback_deploy", BlastRadius.HIGH)
    assert verdict.decision == "needs_approval" and not verdict.may_act


def test_an_action_on_another_service_than_the_incidents_counts_one_blast_level_higher() -> None:
    policy = GuardPolicy(allowed_actions={"*": frozenset({"scale_in", "no_op_observe"})})
    own = decide(
        policy, GuardSnapshot(now=NOW), "payments", "scale_in", BlastRadius.MEDIUM, incident_service="payments"
    )
    assert own.decision == "allow"
    neighbour = decide(
        policy, GuardSnapshot(now=NOW), "ledger-db", "scale_in", BlastRadius.MEDIUM, incident_service="payments"
    )
    assert neighbour.decision == "needs_approval"
    assert "ledger-db is not the incident's service (payments): a human must approve" in neighbour.reasons
    observe = decide(
        policy, GuardSnapshot(now=NOW), "ledger-db", "no_op_observe", BlastRadius.NONE, incident_service="payments"
    )
    assert observe.decision == "allow"


def test_allow_list_refusal_is_reported_before_the_breaker() -> None:
    snapshot = GuardSnapshot(now=NOW, in_flight=5, failures_at={"ledger-db": [NOW] * 3})
    verdict = decide(POLICY, snapshot, "ledger-db", "restart_service", BlastRadius.LOW)
    assert "allow-list" in verdict.reasons[0]


def test_dry_run_allows_in_words_but_never_acts() -> None:
    dry = GuardPolicy(allowed_actions=POLICY.allowed_actions, dry_run=True)
    verdict = decide(dry, GuardSnapshot(now=NOW), "checkout", "restart_service", BlastRadius.LOW)
    assert verdict.decision == "allow" and verdict.dry_run and not verdict.may_act
    assert "dry-run" in verdict.reasons[-1]


@pytest.mark.parametrize(
    ("field", "value"), [("max_concurrent", 0), ("breaker_failures", 0), ("cooldown_s", -1), ("breaker_window_s", 0)]
)
def test_nonsense_limits_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError):
        GuardPolicy(allowed_actions={}, **{field: value})
