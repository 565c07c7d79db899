from __future__ import annotations

import math
import random

import pytest

from healops.detection.prediction import BurnRateMonitor, forecast_exhaustion, theil_sen


def test_theil_sen_ignores_outliers() -> None:
    times = [float(t) for t in range(30)]
    values = [2.0 * t + 1 for t in times]
    values[5], values[17] = 500.0, -300.0
    slope, intercept, low, high = theil_sen(times, values)
    assert slope == pytest.approx(2.0)
    assert intercept == pytest.approx(1.0)
    assert low <= slope <= high


def test_disk_fill_eta_is_within_ten_percent_and_predicted_under_the_horizon() -> None:
    rng = random.Random(5)
    times = [60.0 * i for i in range(40)]  # one point a minute
    values = [40 + 0.5 * i + rng.gauss(0, 0.8) for i in range(40)]  # +0.5 %/min
    values[20] = 99.0  # a benign spike must not pull the trend
    forecast = forecast_exhaustion(times, values, capacity=100.0, horizon_seconds=2 * 3600)
    true_eta = (100 - (40 + 0.5 * 39)) / (0.5 / 60)
    assert forecast.eta_seconds == pytest.approx(true_eta, rel=0.1)
    assert forecast.eta_low_seconds <= forecast.eta_seconds <= forecast.eta_high_seconds
    assert forecast.predicted


def test_flat_or_falling_usage_never_exhausts() -> None:
    times = [60.0 * i for i in range(20)]
    forecast = forecast_exhaustion(times, [70.0 - 0.1 * i for i in range(20)], horizon_seconds=10**9)
    assert math.isinf(forecast.eta_seconds)
    assert not forecast.predicted


def test_theil_sen_refuses_too_few_points() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        theil_sen([1.0, 2.0], [1.0, 2.0])


def test_sustained_fast_burn_fires_the_one_hour_rule_after_one_hour_of_ticks() -> None:
    monitor = BurnRateMonitor(slo=0.999, tick_seconds=60)
    fired = [monitor.update(errors=20, total=1000) for _ in range(60)]  # 2% errors: 20x the budget
    assert all(not f for f in fired[:59])
    assert [rule.name for rule in fired[59]] == ["1h/5m@14.4x"]


def test_slow_burn_fires_only_the_six_hour_rule() -> None:
    monitor = BurnRateMonitor(slo=0.999, tick_seconds=300)  # 5-minute ticks: 72 and 6 ticks
    fired = [monitor.update(errors=8, total=1000) for _ in range(72)]  # 8x the budget
    assert [rule.name for rule in fired[-1]] == ["6h/30m@6x"]


def test_short_spike_after_recovery_does_not_fire() -> None:
    monitor = BurnRateMonitor(slo=0.999, tick_seconds=60)
    for _ in range(55):
        monitor.update(errors=0, total=1000)
    fired = [monitor.update(errors=100, total=1000) for _ in range(3)]  # 3 bad minutes: 1h burn 5x
    assert not any(fired)


def test_burn_rate_state_round_trip_and_bad_counts() -> None:
    monitor = BurnRateMonitor(slo=0.99, tick_seconds=60)
    for i in range(30):
        monitor.update(errors=i % 3, total=100)
    copy = BurnRateMonitor.from_state(monitor.to_state(), slo=0.99, tick_seconds=60)
    assert copy.burn_rate(30) == monitor.burn_rate(30)
    with pytest.raises(ValueError, match="errors <= total"):
        monitor.update(errors=5, total=1)
    with pytest.raises(ValueError, match="slo"):
        BurnRateMonitor(slo=99.9, tick_seconds=60)
