"""Verification rules: metrics back in band for long enough, within the window, or not."""

from __future__ import annotations

from healops.detection.service import FORECAST_SERIES
from healops.remediation.catalog import CATALOG, VerificationRule
from healops.remediation.verification import EXHAUSTION_KINDS, verify

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


def test_a_predicted_exhaustion_needs_headroom_given_back_not_only_the_actions_bands() -> None:
    # A disk filling at 3 points a tick is under 85% when its exhaustion is predicted: a rollback's own metrics
    # all hold their bands while it climbs on. Headroom asks for the disk below its 60% at the action.
    rule = CATALOG["rollback_deploy"].verification
    healthy = {"ErrorRate": [0.3] * 5, "LatencyP99": [200] * 5, "MemoryUtilization": [40] * 5}
    climbing = {**healthy, "DiskUtilization": [63, 66, 69, 72, 75]}
    assert verify(rule, climbing, 9).status == "recovered"  # without headroom: the action's bands alone
    failed = verify(rule, climbing, 9, headroom={"DiskUtilization": 60.0})
    assert failed.status == "not_recovered"
    assert "DiskUtilization < 59 not held for 2 ticks (no headroom gained on the predicted exhaustion)" in failed.detail
    cleared = {**healthy, "DiskUtilization": [30, 31, 31, 32, 32]}
    assert verify(rule, cleared, 9, headroom={"DiskUtilization": 60.0}).status == "recovered"
    # A tick's noise is not headroom: the level must fall by more than the margin.
    flat = {**healthy, "DiskUtilization": [59.5, 59.6, 59.4, 59.5, 59.5]}
    assert verify(rule, flat, 9, headroom={"DiskUtilization": 60.0}).status == "not_recovered"


def test_the_predicted_kinds_are_the_detectors_forecasts() -> None:
    assert {kind: metric for metric, kind in FORECAST_SERIES.items()} == EXHAUSTION_KINDS
