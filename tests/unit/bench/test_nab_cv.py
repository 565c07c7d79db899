from __future__ import annotations

import math

import pytest

from healops.bench.nab_cv import cv_line, leave_one_category_out
from healops.bench.nab_scoring import CostProfile, ScoredFile

STANDARD = CostProfile("standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
WINDOW = (100, 119)


def scored(name: str, category: str, points: dict[int, float], windows: list[tuple[int, int]] | None = None):
    scores = [0.0] * 200
    for index, score in points.items():
        scores[index] = score
    return ScoredFile(name, scores, [WINDOW] if windows is None else windows, category)


# Category a detects its window at 0.9 with three false positives at 0.5; category b's detection only reaches 0.5.
# Together the best threshold is 0.5 (both windows, three FPs); each category alone picks another.
A = scored("a/one.csv", "a", {50: 0.5, 60: 0.5, 70: 0.5, 100: 0.9})
B = scored("b/one.csv", "b", {100: 0.5})


def test_a_held_out_category_is_scored_at_the_threshold_chosen_on_the_others() -> None:
    cv = leave_one_category_out({"only": [A, B]}, STANDARD)
    fold_a, fold_b = cv.folds
    # b held out: a alone wants 0.9, where b's detection at 0.5 is missed
    assert (fold_b.held_out, fold_b.threshold, fold_b.detected_windows) == ("b", 0.9, 0)
    assert fold_b.normalised == pytest.approx(0.0)
    # a held out: b alone wants 0.5, where a pays its three false positives (3 x 0.11 before any window)
    assert (fold_a.threshold, fold_a.false_positives) == (0.5, 3)
    assert fold_a.normalised == pytest.approx(100 * (1.0 - 0.33 + 1.0) / 2)
    assert cv.mean == pytest.approx((fold_a.normalised + fold_b.normalised) / 2)
    assert cv_line([cv]) == f"cv_standard={cv.mean:.1f}"


def test_the_setting_is_chosen_on_the_other_categories_and_ties_go_to_the_first() -> None:
    # setting "late" detects b's window at the right edge only; "early" detects it at the left edge but a not at all
    early = [scored("a/one.csv", "a", {}), scored("b/one.csv", "b", {100: 0.9})]
    late = [scored("a/one.csv", "a", {100: 0.9}), scored("b/one.csv", "b", {119: 0.9})]
    fold_a, fold_b = leave_one_category_out({"early": early, "late": late}, STANDARD).folds
    assert (fold_a.held_out, fold_a.setting) == ("a", "early")  # chosen on b, where early is better: a missed
    assert fold_a.normalised == pytest.approx(0.0)
    assert (fold_b.held_out, fold_b.setting) == ("b", "late")  # chosen on a
    tied = leave_one_category_out({"first": [A, B], "second": [A, B]}, STANDARD)
    assert {fold.setting for fold in tied.folds} == {"first"}


def test_a_category_without_windows_is_left_out_of_the_mean_but_its_false_positives_count_when_pooled() -> None:
    quiet = scored("quiet/one.csv", "quiet", {150: 0.95}, windows=[])
    cv = leave_one_category_out({"only": [A, B, quiet]}, STANDARD)
    fold_quiet = next(fold for fold in cv.folds if fold.held_out == "quiet")
    assert math.isnan(fold_quiet.normalised) and fold_quiet.false_positives == 1 and fold_quiet.raw < 0
    assert cv.mean == pytest.approx(sum(f.normalised for f in cv.folds if f.windows) / 2)
    windows = sum(f.windows for f in cv.folds)
    assert cv.pooled == pytest.approx(100 * (sum(f.raw for f in cv.folds) + windows) / (2 * windows))


def test_settings_scored_on_other_files_are_refused() -> None:
    with pytest.raises(ValueError, match="the same corpus is needed"):
        leave_one_category_out({"x": [A, B], "y": [A]}, STANDARD)
    with pytest.raises(ValueError, match="two categories or more"):
        leave_one_category_out({"x": [A]}, STANDARD)
