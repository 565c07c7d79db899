"""Verification rules: metrics back in band for long enough, within the window, or not."""

from __future__ import annotations

from healops.remediation.catalog import CATALOG, VerificationRule
from healops.remediation.verification import verify

RULE = VerificationRule(("DiskUtilization", "ErrorRate"), settle_ticks=1, stable_ticks=2, within_ticks=5)


def test_recovered_when_every_metric_holds_its_band_for_the_stable_ticks() -> None:
    result = verify(RULE, {"DiskUtilization": [99, 40, 41], "ErrorRate": [30, 0.3, 0.2]}, ticks_since_action=3)
    assert result.status == "recovered" and result.last == {"DiskUtilization": 41, "ErrorRate": 0.2}


def test_pending_until_the_window_ends_then_not_recovered() -> None:
    series = {"DiskUtilization": [97, 98, 97, 98], "ErrorRate": [0.2, 0.2, 0.2, 0.2]}
    assert verify(RULE, {m: v[:2] for m, v in series.items()}, ticks_since_action=2).status == "pending"
    failed = verify(RULE, series, ticks_since_action=5)
    assert failed.status == "not_recovered" and "DiskUtilization < 85" in failed.detail


def test_late_data_waits_for_the_window_to_be_observed() -> None:
    # Five ticks have passed but the metrics of only two arrived, both still out of band: the fix
    # may yet show; the verdict waits for the window's data or for the window again.
    series = {"DiskUtilization": [97, 98], "ErrorRate": [0.2, 0.2]}
    assert verify(RULE, series, ticks_since_action=5).status == "pending"
    arrived = {"DiskUtilization": [97, 98, 40, 41], "ErrorRate": [0.2, 0.2, 0.1, 0.1]}
    assert verify(RULE, arrived, ticks_since_action=6).status == "recovered"
    late = verify(RULE, series, ticks_since_action=10)
    assert late.status == "not_recovered" and "only 2 of 4 ticks of data arrived" in late.detail


def test_missing_data_is_never_recovery() -> None:
    assert verify(RULE, {"DiskUtilization": [40]}, ticks_since_action=9).status == "pending"
    assert verify(RULE, {"DiskUtilization": [40]}, ticks_since_action=10).status == "not_recovered"


def test_latency_band_follows_the_service_baseline_and_heartbeat_must_beat() -> None:
    rule = CATALOG["failover"].verification
    ok = {"Heartbeat": [3] * 5, "ErrorRate": [0.1] * 5, "LatencyP99": [100, 110, 100, 100, 110]}
    assert verify(rule, ok, 3, p99_baseline_ms=50).status == "recovered"
    assert verify(rule, {**ok, "LatencyP99": [200] * 5}, 9, p99_baseline_ms=50).status == "not_recovered"
    assert verify(rule, {**ok, "Heartbeat": [3, 3, 3, 3, 0]}, 9, p99_baseline_ms=50).status == "not_recovered"
