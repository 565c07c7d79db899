"""Leave-one-category-out scoring for NAB: settings and threshold chosen on five categories, scored on the sixth.

A score on the series a detector was tuned to says little about series it has not seen. Here, per held-out
category, every candidate setting is scored on the *other* categories with its own best corpus threshold (NAB's
sweep), the best setting and that threshold are kept, and the held-out category is scored with them, normalised
within it (NAB's null and perfect detectors over its windows). ``cv_<profile>`` is the mean over the held-out
folds that have a window; a category without windows (``artificialNoAnomaly``) has nothing to normalise against
(its null and perfect scores are both 0), so its fold is reported by its false positives and raw cost only.

The pooled figure scores every category with its fold's choice and normalises the sum once, over all windows:
the windowless category's false positives count there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from healops.bench.nab_scoring import (
    CostProfile,
    ScoredFile,
    SweepPoint,
    normalise,
    score_by_threshold,
    score_file,
    sweep_points,
)


@dataclass(frozen=True)
class Fold:
    """One held-out category: the setting and threshold chosen without it, and its score with them."""

    held_out: str
    setting: str
    threshold: float
    raw: float
    windows: int
    detected_windows: int
    false_positives: int
    normalised: float  # NaN when the category has no window


@dataclass(frozen=True)
class CrossValidation:
    profile: CostProfile
    folds: list[Fold]

    @property
    def mean(self) -> float:
        """Mean normalised score over the folds with a window (NaN if none has one)."""
        scored = [fold.normalised for fold in self.folds if not math.isnan(fold.normalised)]
        return sum(scored) / len(scored) if scored else float("nan")

    @property
    def pooled(self) -> float:
        """Every fold's raw score summed and normalised once over all windows."""
        windows = sum(fold.windows for fold in self.folds)
        raw = sum(fold.raw for fold in self.folds)
        return normalise(raw, -self.profile.fn_weight * windows, self.profile.tp_weight * windows)


def leave_one_category_out(
    scored_by_setting: Mapping[str, Sequence[ScoredFile]], profile: CostProfile
) -> CrossValidation:
    """Per category of the corpus, choose a setting (a key of ``scored_by_setting``, each the whole corpus scored
    with that setting, files in the same order) and its threshold on the other categories; score the category.
    Ties go to the setting listed first."""
    if not scored_by_setting:
        raise ValueError("leave_one_category_out needs at least one setting's scored corpus")
    settings = list(scored_by_setting)
    names = [f.name for f in scored_by_setting[settings[0]]]
    for setting in settings:
        if [f.name for f in scored_by_setting[setting]] != names:
            raise ValueError(f"setting {setting!r} scored other files than {settings[0]!r}: the same corpus is needed")
    categories = sorted({f.category for f in scored_by_setting[settings[0]]})
    if len(categories) < 2:
        raise ValueError(f"leave-one-category-out needs two categories or more, got {categories}")
    # the sweep points of every file under every setting, computed once and reused by each fold
    points: dict[str, list[list[SweepPoint]]] = {
        setting: [sweep_points(f, profile) for f in files] for setting, files in scored_by_setting.items()
    }
    folds = []
    for held_out in categories:
        chosen_setting, chosen = settings[0], None
        for setting in settings:
            files = scored_by_setting[setting]
            train = [p for f, file_points in zip(files, points[setting], strict=True) if f.category != held_out
                     for p in file_points]  # fmt: skip
            best = max(score_by_threshold(train, profile), key=lambda result: result.score)
            if chosen is None or best.score > chosen.score:
                chosen_setting, chosen = setting, best
        assert chosen is not None
        tested = [
            score_file(f, profile, chosen.threshold)
            for f in scored_by_setting[chosen_setting]
            if f.category == held_out
        ]
        windows = sum(result.windows for result in tested)
        raw = sum(result.score for result in tested)
        folds.append(
            Fold(
                held_out=held_out,
                setting=chosen_setting,
                threshold=chosen.threshold,
                raw=raw,
                windows=windows,
                detected_windows=sum(result.detected_windows for result in tested),
                false_positives=sum(result.false_positives for result in tested),
                normalised=normalise(raw, -profile.fn_weight * windows, profile.tp_weight * windows),
            )
        )
    return CrossValidation(profile, folds)


def cv_line(results: Sequence[CrossValidation]) -> str:
    """``cv_standard=.. cv_reward_low_FP_rate=.. cv_reward_low_FN_rate=..``"""
    return " ".join(f"cv_{result.profile.name}={result.mean:.1f}" for result in results)
