"""``healops bench prediction``: its classification of cases, on real runs of the detector over the model."""

from __future__ import annotations

from healops.bench.prediction import Case, _cell, run_case
from healops.fleet.simulator import MORNING_TICK


def test_a_fill_predicted_well_ahead_counts_as_predicted() -> None:
    case = run_case("disk_exhaustion", "checkout", 1.5, MORNING_TICK, warmup=60, seed=7)
    assert case.feasible and case.ok
    assert case.lead is not None and case.lead >= 10 and case.eta_error is not None and case.eta_error < 0.25


def test_a_fill_faster_than_the_forecast_window_is_counted_apart() -> None:
    case = run_case("disk_exhaustion", "search", 5.0, MORNING_TICK, warmup=60, seed=7)
    assert case.exhausted_after is not None and case.exhausted_after < 18
    assert not case.feasible and _cell(case) == f"full@{case.exhausted_after}"


def test_late_or_wrong_predictions_and_misses_are_marked() -> None:
    late = Case("memory_leak", "auth", 15.0, 0, exhausted_after=40, predicted_after=35, eta_s=300.0, tick_s=60.0)
    wrong = Case("memory_leak", "auth", 15.0, 0, exhausted_after=40, predicted_after=10, eta_s=2700.0, tick_s=60.0)
    missed = Case("memory_leak", "auth", 15.0, 0, exhausted_after=40, predicted_after=None, eta_s=None, tick_s=60.0)
    assert [c.ok for c in (late, wrong, missed)] == [False, False, False]
    assert [_cell(c) for c in (late, wrong, missed)] == ["[5/0%]", "[30/50%]", "MISSED"]


def test_the_eta_error_counts_the_lead_in_the_simulators_ticks() -> None:
    # 30 ticks of 30 s ahead: an ETA of 15 minutes is exact, one of 30 minutes (60 s ticks) is 100% off.
    exact = Case("disk_exhaustion", "auth", 1.5, 0, exhausted_after=40, predicted_after=10, eta_s=900.0, tick_s=30.0)
    doubled = Case("disk_exhaustion", "auth", 1.5, 0, exhausted_after=40, predicted_after=10, eta_s=1800.0, tick_s=30.0)
    assert (exact.eta_error, doubled.eta_error) == (0.0, 1.0)
