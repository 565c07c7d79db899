"""The detector Lambda's level scorer as a stream (what `bench nab --scorer level` scores)."""

from __future__ import annotations

import random

from healops.detection.service import LevelStreamScorer, ServiceDetectorConfig


def noisy(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [100 + rng.gauss(0, 2) for _ in range(n)]


def test_a_jump_scores_above_one_half_once_per_quiet_period_and_noise_stays_below() -> None:
    scorer = LevelStreamScorer(quiet_ticks=10)
    before = [scorer.update(v) for v in noisy(200, seed=1)]
    jump = [scorer.update(v + 60) for v in noisy(20, seed=2)]
    assert max(before[ServiceDetectorConfig().warmup_ticks :]) < 0.5  # |z| under the signal threshold of 6
    assert jump[0] > 0.5
    assert all(score == 0.0 for score in jump[1:10])  # the same episode: reported once within the quiet ticks


def test_nothing_is_scored_during_the_warm_up() -> None:
    scorer = LevelStreamScorer()
    assert [scorer.update(v) for v in [1.0, 50.0, -40.0, 1000.0]] == [0.0] * 4
