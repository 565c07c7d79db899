"""The per-series level and spread the service detector scores against (healops.detection.service.LevelBaseline)."""

from __future__ import annotations

import random

import pytest

from healops.detection.service import LevelBaseline, ServiceDetector, ServiceDetectorConfig

WARMUP = 10
ALPHA = 2.0 / 31.0


def noise(n: int, level: float = 12.0, sigma: float = 0.6, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0.0, sigma) for _ in range(n)]


def learned(points: list[float]) -> LevelBaseline:
    baseline = LevelBaseline(ALPHA, 0.10, 0.0, WARMUP)
    for x in points:
        baseline.learn(x, anomalous=False, max_frozen=120)  # the warm-up: nothing is scored, everything is learned
    return baseline


@pytest.mark.parametrize("faulty", [1, 2, 3])
def test_a_step_in_the_last_ticks_of_the_warm_up_does_not_move_the_normal(faulty: int) -> None:
    """CPU per request at night, the e2e's CPU spike in the last ticks of the warm-up: a mean of the warm-up made
    the level 1.6x and the spread 13x the series' own (2 faulty of 10), so the spike scored z 2.6, under 6."""
    clean = learned(noise(WARMUP))
    spiked = learned([*noise(WARMUP - faulty), *[40.0] * faulty])
    assert abs(spiked.mean - clean.mean) < 0.1 * clean.mean
    assert spiked.spread() < 2 * clean.spread()
    assert spiked.z(40.0) >= ServiceDetectorConfig().z_signal


def test_after_the_warm_up_the_level_follows_the_series_as_a_weighted_mean() -> None:
    baseline = learned(noise(WARMUP))
    assert baseline.warming == []  # no points kept once the level is scored
    before = baseline.mean
    for _ in range(200):
        baseline.learn(before + 3.0, anomalous=False, max_frozen=120)
    assert baseline.mean == pytest.approx(before + 3.0, abs=0.01)


@pytest.mark.parametrize("saved_after", range(1, WARMUP + 2))
def test_a_state_saved_in_the_warm_up_carries_on_as_if_never_saved(saved_after: int) -> None:
    """The detector Lambda saves every service's state after each run and restores it at the next."""
    points = [*noise(WARMUP - 2), 40.0, 41.0, *noise(5, seed=5)]
    config = ServiceDetectorConfig()
    uninterrupted = ServiceDetector("inventory", config)
    restored = ServiceDetector("inventory", config)
    for tick, x in enumerate(points):
        metrics = {"CPUUtilization": x * 4.6, "RequestCount": 9200.0, "Heartbeat": 2.0}
        expected = uninterrupted.observe(tick, metrics, logs=[])
        if tick == saved_after - 1:
            restored = ServiceDetector.from_state("inventory", restored.to_state(), config)
        assert restored.observe(tick, metrics, logs=[]) == expected
    for name, level in uninterrupted.levels.items():  # a saved state rounds the level and spread to 6 decimals
        again = restored.levels[name]
        assert (again.n, again.warming) == (level.n, level.warming)
        assert (again.mean, again.dev) == pytest.approx((level.mean, level.dev), abs=1e-5)


def test_a_state_saved_mid_warm_up_by_a_version_without_its_points_carries_on() -> None:
    """States written before the warm-up kept its points ([n, mean, dev, frozen]) restore as one point learned."""
    baseline = LevelBaseline(ALPHA, 0.10, 0.0, WARMUP)
    baseline.restore([4, 12.0, 0.5, 0])
    assert baseline.warming == [12.0]
    for x in noise(WARMUP - 4):
        baseline.learn(x, anomalous=False, max_frozen=120)
    assert baseline.n == WARMUP and baseline.warming == [] and baseline.mean == pytest.approx(12.0, abs=1.0)
