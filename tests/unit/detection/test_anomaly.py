from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from healops.detection.anomaly import BOUNDED_CONFIG, DetectorConfig, StreamingAnomalyDetector


def seasonal_series(n: int, seed: int = 7, period: int = 288) -> list[float]:
    rng = random.Random(seed)
    return [50 + 20 * math.sin(2 * math.pi * i / period) + rng.gauss(0, 1.5) for i in range(n)]


def run(detector: StreamingAnomalyDetector, values: list[float]) -> list[float]:
    return [detector.update(v) for v in values]


def long_series_state(config: DetectorConfig, walk: bool) -> dict[str, Any]:
    """The state after 30,000 points of a random walk with noise, or of white noise over a fixed range (which
    revisits every quantised context: it fills every bound)."""
    rng = random.Random(1)
    detector = StreamingAnomalyDetector(config)
    level = 0.0
    for _ in range(30_000):
        level += rng.gauss(0, 1) if walk else 0.0
        detector.update(level + rng.gauss(0, 3) if walk else rng.random())
    return detector.to_state()


def test_scores_are_deterministic_and_in_unit_interval() -> None:
    values = seasonal_series(3000)
    first, second = run(StreamingAnomalyDetector(), values), run(StreamingAnomalyDetector(), values)
    assert first == second
    assert all(0.0 <= s <= 1.0 for s in first)


# split points: inside the ART warm-up, at a block boundary, and in the middle of an ART block
@pytest.mark.parametrize("split", [300, 2500, 2502])
def test_detector_restored_mid_stream_scores_the_rest_identically(split: int) -> None:
    values = seasonal_series(4000)
    values[3000:3100] = [v + 60 for v in values[3000:3100]]
    reference = run(StreamingAnomalyDetector(), values)
    head = StreamingAnomalyDetector()
    run(head, values[:split])
    state = json.loads(json.dumps(head.to_state()))  # what DynamoDB would hold
    restored = StreamingAnomalyDetector.from_state(state)
    assert reference[:split] + run(restored, values[split:]) == reference
    assert any(score > 0 for score in reference[split:])  # the continuation has something to get wrong


def test_bounded_detector_persisted_every_few_points_scores_as_one_that_never_stopped() -> None:
    # as a Lambda runs it: the state saved as JSON and restored between every few points, the ART categories packed
    # one byte a feature; shifts and a new shape make it learn, fire and (past 80 categories) evict
    rng = random.Random(3)
    values = seasonal_series(6000)
    for start in range(1500, 6000, 500):
        values[start : start + 60] = [v + rng.uniform(-40, 60) for v in values[start : start + 60]]
    reference = run(StreamingAnomalyDetector(BOUNDED_CONFIG), values)
    persisted: list[float] = []
    state = StreamingAnomalyDetector(BOUNDED_CONFIG).to_state()
    for start in range(0, len(values), 37):  # 37: restores land at every offset inside an ART block
        detector = StreamingAnomalyDetector.from_state(json.loads(json.dumps(state)), BOUNDED_CONFIG)
        persisted += run(detector, values[start : start + 37])
        state = detector.to_state()
    assert persisted == reference
    art = state["art"]
    assert isinstance(art["lower"], str) and len(art["used"]) > 40  # packed, and many categories to get wrong
    assert sum(score > 0.8 for score in reference[1500:]) >= 5  # the continuation has alarms to get wrong


@pytest.mark.parametrize("walk", [True, False], ids=["random-walk", "white-noise"])
def test_bounded_state_fits_the_per_series_budget_on_a_long_series(walk: bool) -> None:
    state = long_series_state(BOUNDED_CONFIG, walk)
    assert len(state["art"]["used"]) == BOUNDED_CONFIG.art_max_categories  # every bound filled
    assert len(json.dumps(state, separators=(",", ":"))) < 10_000  # ~8 KB a series (docs/lab-notes.md)
    restored = StreamingAnomalyDetector.from_state(json.loads(json.dumps(state)), BOUNDED_CONFIG)
    assert restored.to_state() == state


def test_restored_art_view_keeps_its_categories_and_vigilance() -> None:
    head = StreamingAnomalyDetector()
    run(head, seasonal_series(3000))
    assert head.art is not None and head.art.lower, "the ART view must have learned categories by now"
    restored = StreamingAnomalyDetector.from_state(json.loads(json.dumps(head.to_state())))
    assert restored.art is not None
    assert restored.to_state() == head.to_state()
    assert restored.art.sizes == head.art.sizes  # derived on restore exactly as learned


@pytest.mark.parametrize("walk", [True, False], ids=["random-walk", "white-noise"])
def test_state_size_is_bounded_on_a_long_series(walk: bool) -> None:
    config = DetectorConfig()
    state = long_series_state(config, walk)
    assert len(state["points"]) == config.grids
    assert all(len(keys) <= config.max_contexts for grid in state["points"] for keys in grid["seen"])
    assert all(len(keys) <= config.max_block_contexts for keys in state["blocks"]["seen"])
    assert len(state["scores"]) <= config.refractory
    art = state["art"]
    assert len(art["lower"]) == len(art["upper"]) == len(art["used"]) <= config.art_max_categories
    assert len(art["pending"]) < config.art_block
    assert len(art["recent_gaps"]) <= config.art_warmup + 1
    assert len(json.dumps(state)) < 160_000  # under DynamoDB's 400 KB item limit with room to spare


def test_level_shift_in_a_seasonal_series_outscores_every_normal_point() -> None:
    values = seasonal_series(5000)
    values[4000:] = [v + 40 for v in values[4000:]]
    scores = run(StreamingAnomalyDetector(), values)
    # inside the normal range: it scores once the ART view has seen the first block of the new shape
    assert max(scores[4000 : 4000 + DetectorConfig().art_block]) > max(scores[1500:4000])


@pytest.mark.parametrize("shortfall", [0.0, 0.1])
def test_range_break_scores_by_how_far_it_goes(shortfall: float) -> None:
    values = seasonal_series(3000)
    low, high = min(values[:2500]), max(values[:2500])
    config = DetectorConfig(range_break_shortfall=shortfall)
    near, far = list(values), list(values)
    near[2500] = high + 0.12 * (high - low)  # just beyond the 10% margin
    far[2500] = high + 0.5 * (high - low)
    near_score, far_score = (
        run(StreamingAnomalyDetector(config), near)[2500],
        run(StreamingAnomalyDetector(config), far)[2500],
    )
    if shortfall == 0:
        assert near_score == far_score == 1.0
    else:
        assert 0.9 <= near_score < far_score < 1.0
        assert far_score > 0.99


def test_flat_stretch_inside_the_normal_swing_is_caught_by_block_novelty() -> None:
    # a day held at the series' mean: every value is ordinary, only the shape at the block scale is new
    values = seasonal_series(5000)
    values[3744:3888] = [50 + random.Random(5).gauss(0, 1.5) for _ in range(144)]  # from a rising zero crossing
    with_blocks = run(StreamingAnomalyDetector(), values)
    without = run(StreamingAnomalyDetector(DetectorConfig(block=10**9)), values)
    assert max(with_blocks[3744:3888]) > max(with_blocks[2000:3744])  # after ~7 days of learning
    assert max(with_blocks[3744:3888]) > max(without[3744:3888])


def test_calibration_discounts_a_restless_series_but_keeps_range_breaks_at_one() -> None:
    rng = random.Random(9)
    values = [rng.random() for _ in range(4000)]  # every view stays somewhat excited on white noise
    values[3500] = 3.0
    # the views alone (no ART gate, which would hide what calibration does)
    calibrated = run(StreamingAnomalyDetector(DetectorConfig(art=False)), values)
    uncalibrated = run(StreamingAnomalyDetector(DetectorConfig(art=False, calibration_weight=0.0)), values)
    threshold = 0.7  # one global threshold, as NAB's sweep or an operator would pick
    alerts = sum(score >= threshold for score in calibrated[1000:3500])
    assert alerts < 0.85 * sum(score >= threshold for score in uncalibrated[1000:3500])
    assert calibrated[3500] > 0.999 and uncalibrated[3500] > 0.999


def test_regular_benign_spikes_score_lower_as_they_repeat() -> None:
    rng = random.Random(3)
    values = [10 + rng.gauss(0, 0.5) for _ in range(6000)]
    spikes = list(range(600, 6000, 150))
    for i in spikes:
        values[i] += 15
    scores = run(StreamingAnomalyDetector(), values)
    assert scores[spikes[-1]] < scores[spikes[0]] - 0.1


def test_within_the_refractory_period_only_rising_scores_are_reported() -> None:
    values = seasonal_series(4000)
    values[3500:3600] = [v + 80 for v in values[3500:3600]]
    scores = run(StreamingAnomalyDetector(), values)
    reported = [s for s in scores[3500:3600] if s > 0]
    assert reported, "the shift must be reported"
    assert reported == sorted(set(reported))  # each report beats the last: one crossing per threshold


def test_bad_input_and_bad_state_are_refused() -> None:
    detector = StreamingAnomalyDetector()
    with pytest.raises(ValueError, match="finite"):
        detector.update(float("nan"))
    with pytest.raises(ValueError, match="v=3"):
        StreamingAnomalyDetector.from_state({"v": 99})
    without_art = StreamingAnomalyDetector(DetectorConfig(art=False)).to_state()
    with pytest.raises(ValueError, match="art setting"):
        StreamingAnomalyDetector.from_state(without_art)
    compact = StreamingAnomalyDetector(BOUNDED_CONFIG).to_state()
    with pytest.raises(ValueError, match="another compact setting than False"):
        StreamingAnomalyDetector.from_state(compact)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("refractory", 0, "refractory >= 1"),
        ("art_block", 0, "art_block >= 1"),
        ("art_phase", 4, r"0 <= art_phase < art_block \(4\)"),
        ("art_phase", -1, r"0 <= art_phase < art_block \(4\)"),
        ("art_levels", 1, "art_levels >= 2"),
        ("art_warmup", 1, "art_warmup >= 2"),
        ("art_max_categories", 0, "art_max_categories >= 1"),
        ("art_chomp", 1.0, "art_chomp < 1"),
        ("gate_points", -1, "gate_points >= 0"),
        ("gate_damping", 0.0, "0 < gate_damping <= 1"),
        ("gate_damping", 1.5, "0 < gate_damping <= 1"),
        ("fire_penalty", -0.1, "fire_penalty >= 0"),
        ("fire_half_life", 0.0, "fire_half_life > 0"),
        ("range_break_shortfall", 1.5, "range_break_shortfall <= 1"),
        ("range_break_scale", 0.0, "range_break_scale > 0"),
    ],
)
def test_bad_config_is_rejected_with_the_accepted_range(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DetectorConfig(**{field: value})


def stable_then(pattern_start: int, n: int, seed: int = 11) -> list[float]:
    """A noisy level with a periodic dip, the kind of series the gate is for."""
    rng = random.Random(seed)
    return [20 + rng.gauss(0, 1) - (8 if i % 96 < 8 else 0) for i in range(n)]


def test_gate_lets_a_new_shape_through_and_damps_excitement_without_one() -> None:
    values = stable_then(0, 5000)
    values[4000:4040] = [v + 6 for v in values[4000:4040]]  # a plateau inside the seen range: not a range break
    gated = run(StreamingAnomalyDetector(), values)
    ungated = run(StreamingAnomalyDetector(DetectorConfig(art=False)), values)
    normal = slice(1500, 4000)
    # the anomaly stands out of the normal points by more with the gate than without
    assert max(gated[4000:4040]) > 0.8
    assert max(gated[4000:4040]) - max(gated[normal]) > max(ungated[4000:4040]) - max(ungated[normal])


def test_gate_does_not_damp_before_the_art_view_has_learned_its_warm_up() -> None:
    config = DetectorConfig()
    warm = config.art_block * config.art_warmup  # points before the ART view can fire
    values = stable_then(0, warm + 1000)
    values[300:320] = [v + 6 for v in values[300:320]]  # excitement inside the warm-up
    gated = run(StreamingAnomalyDetector(config), values)
    ungated = run(StreamingAnomalyDetector(DetectorConfig(art=False)), values)
    # until the ART view can fire, it has no say: the ensemble's scores come through as they are
    assert gated[:warm] == ungated[:warm]
    assert max(gated[300:320]) > 0.5
    # afterwards the gate damps what the ART view does not call new
    assert gated[warm:] != ungated[warm:]


def test_art_phase_starts_the_art_blocks_that_many_points_later() -> None:
    values = stable_then(0, 3000)
    values[2500:2520] = [v + 6 for v in values[2500:2520]]
    late = StreamingAnomalyDetector(DetectorConfig(art_phase=3))
    run(late, values)
    skipped = StreamingAnomalyDetector()
    assert skipped.art is not None and late.art is not None
    for value in values[3:]:
        skipped.art.update(value)
    # the ART view of the later phase saw exactly the series without its first three points
    assert late.art.to_state() == skipped.art.to_state()
    # and that is a different blocking from the shipped phase's, not the same view under another name
    shipped = StreamingAnomalyDetector()
    run(shipped, values)
    assert shipped.art is not None and shipped.art.to_state()["window"] != late.art.to_state()["window"]


def test_spike_after_a_stable_period_scores_high() -> None:
    values = stable_then(0, 4000)
    values[3500] += 30  # far beyond the range
    scores = run(StreamingAnomalyDetector(), values)
    assert scores[3500] > 0.99
    assert max(scores[1500:3500]) < 0.9


def test_repeating_pattern_becomes_quiet() -> None:
    # a square wave: the first steps are new shapes, later ones are known categories and are not reported high
    values = [10.0 if (i // 50) % 2 else 0.0 for i in range(6000)]
    scores = run(StreamingAnomalyDetector(), values)
    assert max(scores[4000:]) < 0.3
    assert max(scores[:1000]) > 0.5


def test_fire_penalty_discounts_a_series_that_never_settles() -> None:
    rng = random.Random(4)
    values = [rng.random() for _ in range(8000)]  # white noise: the ART view keeps finding new windows
    runs = []
    for penalty in (0.05, 0.0):
        detector = StreamingAnomalyDetector(DetectorConfig(fire_penalty=penalty))
        scores, fires = [], []
        for value in values:
            scores.append(detector.update(value))
            if detector.last_fire == detector.n:
                fires.append(detector.n - 1)
        runs.append((scores, fires))
    (penalised, fires), (plain, same_fires) = runs
    assert fires == same_fires and len(fires) > 5  # the premise: the same new clusters, and many of them
    late = fires[3:]
    assert all(penalised[i] <= plain[i] for i in late)
    assert sum(penalised[i] for i in late) < 0.9 * sum(plain[i] for i in late)
