"""NAB's scoring rules, reimplemented from its published description and scorer (numenta/NAB, MIT).

A file is scored from its anomaly scores, its anomaly windows (index ranges) and a cost profile:

- the first ``min(floor(0.15 * n), 750)`` records are probationary and not scored at all;
- inside a window, a detection at index ``i`` is worth ``tp * sigmoid(-(right - i + 1) / width) / sigmoid(-1)``
  with NAB's scaled sigmoid ``2 / (1 + exp(5x)) - 1``: 1.0 at the left edge, falling towards 0 at the right edge;
  only the earliest detection in a window counts, a window without one costs ``-fn``;
- a detection outside every window costs ``fp * sigmoid((i - prev_right) / (prev_width - 1))`` where ``prev`` is
  the closest preceding window (just after a window it costs little), or ``-fp`` before any window;
- per profile one threshold for the whole corpus (a record is a detection when its score is >= the threshold)
  is chosen to maximise the summed score, sweeping every distinct score;
- the total is normalised to ``100 * (S - S_null) / (S_perfect - S_null)``: the perfect detector earns ``tp`` per
  window, the null detector (never fires) loses ``fn`` per window.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROBATION_PERCENT = 0.15
PROBATION_CAP_RECORDS = 5000  # NAB caps probation at 15% of 5,000 records (750)
NO_DETECTION_THRESHOLD = 1.1  # above any score in [0, 1]: the "never fires" end of the sweep


@dataclass(frozen=True)
class CostProfile:
    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


def load_profiles(path: Path) -> list[CostProfile]:
    """Read NAB's ``config/profiles.json`` (``{name: {"CostMatrix": {"tpWeight", "fpWeight", "fnWeight"}}}``)."""
    raw = json.loads(path.read_text())
    profiles = []
    for name, body in raw.items():
        matrix = body.get("CostMatrix") if isinstance(body, dict) else None
        if not isinstance(matrix, dict) or not {"tpWeight", "fpWeight", "fnWeight"} <= matrix.keys():
            raise ValueError(f"{path}: profile {name!r} needs CostMatrix with tpWeight, fpWeight and fnWeight")
        profiles.append(
            CostProfile(name, float(matrix["tpWeight"]), float(matrix["fpWeight"]), float(matrix["fnWeight"]))
        )
    return profiles


def scaled_sigmoid(relative_position: float) -> float:
    """NAB's reward curve: 0.987 at -1 (a window's left edge), 0 at 0 (its right edge), -1 from 3 on."""
    if relative_position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * relative_position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probationary_length(n_records: int) -> float:
    return min(math.floor(PROBATION_PERCENT * n_records), PROBATION_PERCENT * PROBATION_CAP_RECORDS)


@dataclass
class ScoredFile:
    """One file's detector output and ground truth: ``windows`` are inclusive (start, end) record indices."""

    name: str
    scores: Sequence[float]
    windows: Sequence[tuple[int, int]]
    category: str = ""

    def __post_init__(self) -> None:
        previous_end = -1
        for start, end in self.windows:
            if not 0 <= start <= end < len(self.scores) or start <= previous_end:
                raise ValueError(f"{self.name}: windows must be ordered, disjoint index ranges inside the file")
            previous_end = end


@dataclass(frozen=True)
class SweepPoint:
    """A scorable record: its anomaly score, what detecting it is worth, and its window (None outside)."""

    anomaly_score: float
    value: float
    window: tuple[str, int] | None


def sweep_points(scored: ScoredFile, profile: CostProfile) -> list[SweepPoint]:
    """Every non-probationary record with the score change a detection there would make."""
    probation = probationary_length(len(scored.scores))
    window_of = {}
    for number, (start, end) in enumerate(scored.windows):
        for i in range(start, end + 1):
            window_of[i] = number
    points = []
    prev_right: int | None = None
    prev_width = 0
    for i, anomaly_score in enumerate(scored.scores):
        number = window_of.get(i)
        if number is not None:
            start, end = scored.windows[number]
            width = end - start + 1
            value = scaled_sigmoid(-(end - i + 1) / width) * profile.tp_weight / MAX_TP
            window: tuple[str, int] | None = (scored.name, number)
        else:
            if prev_right is None:
                position = 3.0
            elif prev_width <= 1:
                position = 3.0  # a one-record window has no width to scale by: treat as far past it
            else:
                position = (i - prev_right) / (prev_width - 1)
            value = scaled_sigmoid(position) * profile.fp_weight
            window = None
        if i >= probation:
            points.append(SweepPoint(float(anomaly_score), value, window))
        if number is not None and i == scored.windows[number][1]:
            prev_right, prev_width = i, scored.windows[number][1] - scored.windows[number][0] + 1
    return points


@dataclass
class ThresholdScore:
    threshold: float
    score: float
    tp: int = 0
    fp: int = 0
    detected_windows: int = 0
    windows: int = 0


def score_by_threshold(points: Iterable[SweepPoint], profile: CostProfile) -> list[ThresholdScore]:
    """The total score at every distinct threshold, highest threshold first (NAB's sweep)."""
    ordered = sorted(points, key=lambda p: p.anomaly_score, reverse=True)
    window_best: dict[tuple[str, int], float] = {}
    for point in ordered:
        if point.window is not None:
            window_best[point.window] = -profile.fn_weight
    total = sum(window_best.values())
    n_windows = len(window_best)
    fp_sum = 0.0
    tp = fp = detected = 0
    results = []
    current = NO_DETECTION_THRESHOLD
    for point in ordered:
        if point.anomaly_score != current:
            results.append(ThresholdScore(current, total + fp_sum, tp, fp, detected, n_windows))
            current = point.anomaly_score
        if point.window is None:
            fp += 1
            fp_sum += point.value
        else:
            tp += 1
            best = window_best[point.window]
            if best == -profile.fn_weight:
                detected += 1
            if point.value > best:
                total += point.value - best
                window_best[point.window] = point.value
    results.append(ThresholdScore(current, total + fp_sum, tp, fp, detected, n_windows))
    return results


def optimise_threshold(files: Sequence[ScoredFile], profile: CostProfile) -> ThresholdScore:
    """The corpus-wide threshold with the best summed score (ties: the highest threshold)."""
    points: list[SweepPoint] = []
    for scored in files:
        points.extend(sweep_points(scored, profile))
    return max(score_by_threshold(points, profile), key=lambda result: result.score)


@dataclass
class FileScore:
    name: str
    category: str
    score: float
    windows: int
    detected_windows: int
    false_positives: int


def score_file(scored: ScoredFile, profile: CostProfile, threshold: float) -> FileScore:
    """One file's score with detections at ``score >= threshold`` (the same rules as the sweep)."""
    points = sweep_points(scored, profile)
    window_best: dict[tuple[str, int], float] = {p.window: -profile.fn_weight for p in points if p.window}
    fp_sum = 0.0
    false_positives = 0
    for point in points:
        if point.anomaly_score < threshold:
            continue
        if point.window is None:
            false_positives += 1
            fp_sum += point.value
        elif point.value > window_best[point.window]:
            window_best[point.window] = point.value
    detected = sum(1 for best in window_best.values() if best != -profile.fn_weight)
    return FileScore(
        scored.name, scored.category, sum(window_best.values()) + fp_sum, len(window_best), detected, false_positives
    )


@dataclass
class ProfileResult:
    profile: CostProfile
    threshold: float
    raw_score: float
    null_score: float
    perfect_score: float
    files: list[FileScore] = field(default_factory=list)

    @property
    def normalised(self) -> float:
        return normalise(self.raw_score, self.null_score, self.perfect_score)


def normalise(raw: float, null: float, perfect: float) -> float:
    if perfect == null:
        return float("nan")  # no scorable window: nothing to normalise against
    return 100.0 * (raw - null) / (perfect - null)


def score_corpus(files: Sequence[ScoredFile], profile: CostProfile) -> ProfileResult:
    """Optimise the threshold on the corpus, score each file at it, and the null and perfect baselines."""
    best = optimise_threshold(files, profile)
    per_file = [score_file(scored, profile, best.threshold) for scored in files]
    n_windows = sum(result.windows for result in per_file)
    return ProfileResult(
        profile=profile,
        threshold=best.threshold,
        raw_score=sum(result.score for result in per_file),
        # the detector that never fires; NAB sweeps its constant output, which on a real corpus ends at the same
        # -fn per window (flagging every record costs far more), as the shared-corpus test checks
        null_score=-profile.fn_weight * n_windows,
        perfect_score=profile.tp_weight * n_windows,
        files=per_file,
    )
