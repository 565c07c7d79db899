from __future__ import annotations

import json
import math
import random

import pytest

from healops.detection.anomaly import DetectorConfig, StreamingAnomalyDetector


def seasonal_series(n: int, seed: int = 7, period: int = 288) -> list[float]:
    rng = random.Random(seed)
    return [50 + 20 * math.sin(2 * math.pi * i / period) + rng.gauss(0, 1.5) for i in range(n)]


def run(detector: StreamingAnomalyDetector, values: list[float]) -> list[float]:
    return [detector.update(v) for v in values]


def test_scores_are_deterministic_and_in_unit_interval() -> None:
    values = seasonal_series(3000)
    first, second = run(StreamingAnomalyDetector(), values), run(StreamingAnomalyDetector(), values)
    assert first == second
    assert all(0.0 <= s <= 1.0 for s in first)


def test_detector_restored_mid_stream_scores_the_rest_identically() -> None:
    values = seasonal_series(4000)
    values[3000:3100] = [v + 60 for v in values[3000:3100]]
    reference = run(StreamingAnomalyDetector(), values)
    head = StreamingAnomalyDetector()
    run(head, values[:2500])
    state = json.loads(json.dumps(head.to_state()))  # what DynamoDB would hold
    restored = StreamingAnomalyDetector.from_state(state)
    assert reference[:2500] + run(restored, values[2500:]) == reference


@pytest.mark.parametrize("walk", [True, False], ids=["random-walk", "white-noise"])
def test_state_size_is_bounded_on_a_long_series(walk: bool) -> None:
    # white noise over a fixed range revisits every quantised context: it fills every bound
    config = DetectorConfig()
    rng = random.Random(1)
    detector = StreamingAnomalyDetector(config)
    level = 0.0
    for _ in range(30_000):
        level += rng.gauss(0, 1) if walk else 0.0
        detector.update(level + rng.gauss(0, 3) if walk else rng.random())
    state = detector.to_state()
    assert len(state["points"]) == config.grids
    assert all(len(keys) <= config.max_contexts for grid in state["points"] for keys in grid["seen"])
    assert all(len(keys) <= config.max_block_contexts for keys in state["blocks"]["seen"])
    assert len(state["scores"]) <= config.refractory
    assert len(json.dumps(state)) < 80_000  # under DynamoDB's 400 KB item limit with room to spare


def test_level_shift_in_a_seasonal_series_outscores_every_normal_point() -> None:
    values = seasonal_series(5000)
    values[4000:] = [v + 40 for v in values[4000:]]
    scores = run(StreamingAnomalyDetector(), values)
    assert max(scores[4000:4003]) > max(scores[1500:4000])


def test_value_beyond_the_seen_range_scores_one() -> None:
    values = seasonal_series(3000)
    values[2500] = max(values[:2500]) + 0.5 * (max(values[:2500]) - min(values[:2500]))
    scores = run(StreamingAnomalyDetector(), values)
    assert scores[2500] == 1.0


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
    calibrated = run(StreamingAnomalyDetector(), values)
    uncalibrated = run(StreamingAnomalyDetector(DetectorConfig(calibration_weight=0.0)), values)
    threshold = 0.7  # one global threshold, as NAB's sweep or an operator would pick
    alerts = sum(score >= threshold for score in calibrated[1000:3500])
    assert alerts < 0.85 * sum(score >= threshold for score in uncalibrated[1000:3500])
    assert calibrated[3500] == uncalibrated[3500] == 1.0


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
    with pytest.raises(ValueError, match="v=2"):
        StreamingAnomalyDetector.from_state({"v": 99})
    with pytest.raises(ValueError, match="refractory"):
        DetectorConfig(refractory=0)
