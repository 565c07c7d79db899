"""NAB scoring rules, checked against cases computed by hand (scaled_sigmoid(x) = -tanh(2.5 x))."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from healops.bench.nab_scoring import (
    CostProfile,
    ScoredFile,
    optimise_threshold,
    probationary_length,
    scaled_sigmoid,
    score_corpus,
    score_file,
)

STANDARD = CostProfile("standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
LOW_FN = CostProfile("reward_low_FN_rate", tp_weight=1.0, fp_weight=0.11, fn_weight=2.0)
SHARED_NAB = Path(__file__).resolve().parents[4] / "shared" / "nab"


def scores_with(n: int, ones: dict[int, float]) -> list[float]:
    return [ones.get(i, 0.0) for i in range(n)]


def test_scaled_sigmoid_matches_nab_reference_points() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_probation_is_fifteen_percent_capped_at_750_records() -> None:
    assert probationary_length(20) == 3
    assert probationary_length(4000) == 600
    assert probationary_length(10_000) == 750


def test_hand_computed_file_score_counts_earliest_detection_and_weighted_false_positives() -> None:
    # 20 records, probation 3, one window [10, 13] (width 4). Detections at 1 (probation: ignored),
    # 5 (before any window: -fp), 12 and 13 (only the earliest counts: position -(13-12+1)/4 = -0.5),
    # 15 (after the window: fp * scaled_sigmoid((15-13)/(4-1))).
    scored = ScoredFile("a/f.csv", scores_with(20, {1: 1.0, 5: 1.0, 12: 1.0, 13: 1.0, 15: 1.0}), [(10, 13)])
    tp = math.tanh(1.25) / math.tanh(2.5)
    fp_after = -math.tanh(2.5 * 2 / 3) * 0.11
    expected = -0.11 + tp + fp_after
    result = score_file(scored, STANDARD, threshold=0.5)
    assert result.score == pytest.approx(expected, abs=1e-12)
    assert (result.detected_windows, result.false_positives) == (1, 2)
    # a missed window costs fn: nothing detected scores -1 (standard) and -2 (low FN)
    assert score_file(scored, STANDARD, threshold=2.0).score == -1.0
    assert score_file(scored, LOW_FN, threshold=2.0).score == -2.0


def test_left_edge_detection_earns_the_full_true_positive_weight() -> None:
    scored = ScoredFile("a/f.csv", scores_with(20, {10: 1.0}), [(10, 13)])
    assert score_file(scored, STANDARD, threshold=1.0).score == pytest.approx(1.0)


def test_threshold_sweep_picks_the_best_corpus_threshold_and_normalises_between_null_and_perfect() -> None:
    # File 1: a 0.9 just inside its window (left edge) and a 0.7 false positive before it.
    # File 2: a 0.8 at its window's left edge. Threshold 0.8 catches both windows without the FP.
    one = ScoredFile("a/one.csv", scores_with(20, {6: 0.7, 10: 0.9}), [(10, 13)], "a")
    two = ScoredFile("a/two.csv", scores_with(20, {10: 0.8}), [(10, 13)], "a")
    best = optimise_threshold([one, two], STANDARD)
    assert best.threshold == 0.8
    assert best.score == pytest.approx(2.0)
    result = score_corpus([one, two], STANDARD)
    assert (result.null_score, result.perfect_score) == (-2.0, 2.0)
    assert result.normalised == pytest.approx(100.0)
    # Low FN, with a 200-record second file the detector never fires on (flagging all of it would cost 70+ FPs):
    # best is threshold 0.9, 1 + (-2) = -1 -> 100 * (-1 + 4) / (2 + 4) = 50
    only_first = ScoredFile("a/two.csv", [0.0] * 200, [(100, 103)], "a")
    assert score_corpus([one, only_first], LOW_FN).normalised == pytest.approx(50.0)


def test_windows_must_be_ordered_and_inside_the_file() -> None:
    with pytest.raises(ValueError, match="windows"):
        ScoredFile("a/f.csv", [0.0] * 10, [(5, 12)])
    with pytest.raises(ValueError, match="windows"):
        ScoredFile("a/f.csv", [0.0] * 10, [(5, 6), (2, 3)])


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_NAB.is_dir(), reason="the shared NAB copy is not next to the repository")
def test_null_detector_scores_0_and_perfect_detector_100_on_the_shared_corpus() -> None:
    from healops.bench.nab import load_corpus
    from healops.bench.nab_scoring import load_profiles

    corpus = load_corpus(SHARED_NAB)
    profiles = load_profiles(SHARED_NAB / "config" / "profiles.json")
    null = [ScoredFile(s.key, [0.0] * len(s.values), s.windows, s.category) for s in corpus]
    perfect = [
        ScoredFile(s.key, scores_with(len(s.values), {start: 1.0 for start, _ in s.windows}), s.windows, s.category)
        for s in corpus
    ]
    for profile in profiles:
        assert score_corpus(null, profile).normalised == pytest.approx(0.0)
        assert score_corpus(perfect, profile).normalised == pytest.approx(100.0)
