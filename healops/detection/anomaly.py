"""Online anomaly detection for one metric series: score each point before the next is seen.

``StreamingAnomalyDetector.update(value) -> float`` returns an anomaly score in [0, 1]. It learns each series'
normal from the series itself (no hand-set thresholds per metric) with an ensemble of four views:

- *level surprise*: the z-score of the value against an exponentially weighted mean and variance (horizon
  ``span`` points), mapped into [0, 1) by ``1 - exp(-z / z_scale)``;
- *context novelty*: the value is quantised on the range seen so far, and the last 1..``max_context`` levels
  form contexts; the score is the fraction of them never seen before. Repeating shapes (daily seasonality,
  square waves, regular spikes) become familiar, a new shape does not. The view averages ``grids``
  quantisations offset by a fraction of a level, so noise at one grid's level boundary is not a new shape;
- *block novelty*: the same over the means of consecutive blocks of ``block`` points, so a shape change longer
  than the point contexts (a missing daily peak, a flat stretch inside the normal swing) is new too;
- *range break*: a value beyond the range seen so far by more than ``range_margin`` of its width scores
  ``1 - range_break_shortfall`` at the margin, rising towards 1 the further it goes (so a far break outranks
  a near one under the same threshold).

The views are combined as a probabilistic OR and calibrated per series: ``calibration_weight`` of the series'
typical combined score (an exponentially weighted mean over ``calibration_span`` points) is taken off and the
rest rescaled to [0, 1], so a series whose views are always somewhat excited (noisy, bursty) needs more to
alarm than a quiet one under the same global threshold.

An ART view (``healops.detection.art``: blocks of ``art_block`` points, windows of 8 blocks clustered by a
dual-vigilance fuzzy ART) then *gates* that score: unless the ART view saw a new cluster (a window shape it
has no category for) within the last ``gate_points`` points, or the point breaks the range, the score is
multiplied by ``gate_damping`` (not before the ART view has learned its warm-up: until it can fire, it
does not damp either). So a view's excitement counts in full only when the shape of the series is new
too, which removes most false alarms of the views on noise they had not seen yet. At a new cluster, the ART
confidence is OR-ed in; both are divided by ``1 + fire_penalty * (the series' earlier new clusters, an
exponentially weighted count with half-life ``fire_half_life`` points)``, so a series whose shape keeps being
new (it never settles into categories) alarms less each time.

A refractory rule keeps one episode from raising a run of alerts: a point is reported only when its score
beats every score of the last ``refractory`` points.
For any threshold an operator (or NAB's sweep) picks, the first crossing of an episode is reported and the
rest of it is not, so detections are early and single.

State is plain JSON-able data with a bounded size (``to_state`` / ``from_state``) so the detector Lambda can
persist it per series between invocations and carry on exactly where it left off.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from healops.detection.art import ArtView

STATE_VERSION = 3
_SCORE_DECIMALS = 4  # compact_state: decimals a score is kept (and stored) with


@dataclass(frozen=True)
class DetectorConfig:
    """Global settings (the same for every series; nothing here is tuned per metric)."""

    levels: int = 8  # quantisation levels over the range seen so far
    max_context: int = 6  # longest context (in points or blocks) of the novelty views
    max_contexts: int = 512  # stored point contexts per length and grid, oldest evicted first (bounds the state)
    grids: int = 2  # quantisation grids of the point-novelty view, offset by 1/grids of a level
    block: int = 12  # points averaged into one step of the block-novelty view
    max_block_contexts: int = 256  # stored block contexts per length (blocks arrive ``block`` times less often)
    range_margin: float = 0.1  # a value this fraction of the seen range beyond it is a range break
    range_break_shortfall: float = 0.1  # a break just at the margin scores 1 minus this (0: every break scores 1)
    range_break_scale: float = 0.1  # excess beyond the margin (fraction of the range) over which that shortfall
    # falls by 1/e: 0.1 keeps near breaks below the score of clear ones without letting them fall to noise level
    span: float = 5000.0  # points: horizon of the location and spread estimates
    z_scale: float = 8.0  # z at which the level view reaches 1 - 1/e
    novelty_weight: float = 1.0
    calibration_span: float = 3000.0  # points: horizon of the series' typical combined score
    calibration_weight: float = 0.5  # share of that typical score taken off before rescaling
    refractory: int = 100  # points: an episode reports only scores that beat every score of this many points
    warmup: int = 10  # points before anything is scored
    # ART view and gate (see the module docstring). The ART front-end is sensitive to these on NAB (block 3 or 5
    # instead of 4 costs ~7 points of the standard score; docs/benchmarks.md has the table): change with care.
    art: bool = True  # False: no ART view, no gate, no fire penalty
    art_block: int = 4  # points per ART block (the time scale of the shapes it clusters)
    # points of a series the ART view skips before its first block: where its blocks start. The shipped detector
    # uses 0; `healops bench nab --art-phases` scores the others too, because NAB's score depends on it.
    art_phase: int = 0
    art_levels: int = 80  # quantisation levels of a block on the range seen so far
    art_chomp: float = 0.05  # block values within this share of the range of the tracked median are snapped to it
    art_warmup: int = 104  # blocks learned before the ART view fires; its vigilances start from their matches
    art_max_categories: int = 80  # ART categories kept, the least recently used evicted first (bounds the state)
    # Keep what the state stores at the precision it is stored with, so a detector persisted every point continues
    # exactly: the ART features on a grid of 1/255 (one byte each) and the scores and match statistics at 4 decimals.
    # False: exact floats (a state of ~50 KB after a NAB series; True: a few KB, see BOUNDED_CONFIG).
    compact_state: bool = False
    gate_points: int = 4  # the score counts in full this many points after a new cluster (a block, at block 4)
    gate_damping: float = 0.6  # factor on the score otherwise (range breaks excepted; 1: no gate)
    fire_penalty: float = 0.05  # per earlier new cluster of the series, divide by 1 + this * their count
    fire_half_life: float = 3000.0  # points: a new cluster this old counts half

    def __post_init__(self) -> None:
        counts = (self.levels >= 2, self.max_context >= 1, self.max_contexts >= 1, self.refractory >= 1)
        if not all(counts) or self.block < 1 or self.max_block_contexts < 1 or self.grids < 1:
            raise ValueError(
                "levels >= 2, max_context >= 1, max_contexts >= 1, grids >= 1, block >= 1, max_block_contexts >= 1 "
                "and refractory >= 1 are required"
            )
        if self.span < 1 or self.z_scale <= 0 or not 0 <= self.novelty_weight <= 1 or self.range_margin < 0:
            raise ValueError("span >= 1, z_scale > 0, 0 <= novelty_weight <= 1 and range_margin >= 0 are required")
        if self.calibration_span < 1 or not 0 <= self.calibration_weight < 1:
            raise ValueError("calibration_span >= 1 and 0 <= calibration_weight < 1 are required")
        if not 0 <= self.range_break_shortfall <= 1 or self.range_break_scale <= 0:
            raise ValueError("0 <= range_break_shortfall <= 1 and range_break_scale > 0 are required")
        if self.art_block < 1 or self.art_levels < 2 or self.art_warmup < 2 or self.art_max_categories < 1:
            raise ValueError(
                "art_block >= 1, art_levels >= 2, art_warmup >= 2 and art_max_categories >= 1 are required"
            )
        if not 0 <= self.art_phase < self.art_block:
            raise ValueError(f"0 <= art_phase < art_block ({self.art_block}) is required")
        if not 0 <= self.art_chomp < 1 or self.gate_points < 0 or not 0 < self.gate_damping <= 1:
            raise ValueError("0 <= art_chomp < 1, gate_points >= 0 and 0 < gate_damping <= 1 are required")
        if self.fire_penalty < 0 or self.fire_half_life <= 0:
            raise ValueError("fire_penalty >= 0 and fire_half_life > 0 are required")


# The ensemble with its state bounded for a detector persisting it per series (issue 22, "one detector"). The budget
# sets the bounds, not NAB: ~8 KB a series (1,000 services x 8 metrics in 64 MB a tick, a service's series well
# under DynamoDB's 400 KB item). The ART categories stay at 80 (fewer cost 3-4 points cross-validated: the view
# needs its memory of shapes) but are kept one byte a feature; the novelty views keep 32 contexts per length, the
# largest power of two that fits the rest of the budget. docs/lab-notes.md has the table of bounds measured.
BOUNDED_CONFIG = DetectorConfig(max_contexts=32, max_block_contexts=32, compact_state=True)


class ContextNovelty:
    """Novelty of the latest quantised levels: the fraction of their contexts (the last 1..n levels) never seen."""

    def __init__(self, levels: int, max_context: int, max_contexts: int) -> None:
        self.levels = levels
        self.max_contexts = max_contexts
        self.recent: deque[int] = deque(maxlen=max_context)
        # per context length, the contexts seen, each encoded as one int (base ``levels``); a dict keeps
        # insertion order, so the oldest context is evicted first when the bound is reached
        self.seen: list[dict[int, None]] = [{} for _ in range(max_context)]

    def step(self, level: int) -> float:
        recent = self.recent
        recent.append(level)
        key = 0
        novel = 0
        for length in range(1, len(recent) + 1):
            key = key * self.levels + recent[-length]
            seen = self.seen[length - 1]
            if key in seen:
                continue
            novel += 1
            seen[key] = None
            if len(seen) > self.max_contexts:
                del seen[next(iter(seen))]
        return novel / len(recent)

    def to_state(self) -> dict[str, Any]:
        return {"recent": list(self.recent), "seen": [list(seen) for seen in self.seen]}

    def restore(self, state: dict[str, Any]) -> None:
        if len(state["seen"]) != len(self.seen) or len(state["recent"]) > len(self.seen):
            raise ValueError(f"detector state was saved with another max_context than {len(self.seen)}")
        self.recent.extend(int(level) for level in state["recent"])
        self.seen = [dict.fromkeys(int(key) for key in seen[-self.max_contexts :]) for seen in state["seen"]]


class StreamingAnomalyDetector:
    """One series' online detector (see the module docstring)."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = c = config or DetectorConfig()
        self._alpha = 2.0 / (c.span + 1.0)
        self.n = 0
        self.mean = 0.0
        self.var = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.block_sum = 0.0
        self.typical_score = 0.0
        # grid 0 has ``levels`` levels; an offset grid has one more (its first and last levels are partial)
        self.points = [ContextNovelty(c.levels + (grid > 0), c.max_context, c.max_contexts) for grid in range(c.grids)]
        self.blocks = ContextNovelty(c.levels, c.max_context, c.max_block_contexts)
        self.recent_scores: deque[float] = deque(maxlen=c.refractory)
        self.art = (
            ArtView(c.art_block, c.art_levels, c.art_chomp, c.art_warmup, c.art_max_categories, c.compact_state)
            if c.art
            else None
        )
        self._fire_decay = 0.5 ** (1.0 / c.fire_half_life)
        self.fire_count = 0.0  # exponentially weighted count of the ART view's new clusters so far
        self.last_fire = -(10**9)  # point of the last new cluster

    def update(self, value: float) -> float:
        """Score ``value`` (the next point of the series) in [0, 1], then learn from it."""
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"value must be a finite number, got {value!r}")
        c = self.config
        self.n += 1
        if self.n == 1:
            self.mean = x
        seen_lo, seen_hi = self.lo, self.hi
        self.lo, self.hi = min(self.lo, x), max(self.hi, x)
        raw = self._level_view(x)
        # probabilistic OR: any view alone can raise the score, several together raise it more
        grids = c.grids
        novelty = sum(view.step(self._quantise(x, grid / grids)) for grid, view in enumerate(self.points))
        novelty *= c.novelty_weight / grids
        raw += novelty * (1.0 - raw)
        self.block_sum += x
        if self.n % c.block == 0:
            block_novelty = c.novelty_weight * self.blocks.step(self._quantise(self.block_sum / c.block))
            raw += block_novelty * (1.0 - raw)
            self.block_sum = 0.0
        range_break = False
        if self.n <= c.warmup:
            raw = 0.0
        elif math.isfinite(seen_lo):
            margin = c.range_margin * (seen_hi - seen_lo)
            if x > seen_hi + margin or x < seen_lo - margin:
                raw = max(raw, self._range_break_score(x, seen_lo, seen_hi))
                range_break = True
            raw = self._calibrate(raw)
        if self.art is not None:
            raw = self._gate(self.art, x, raw, range_break)
        if c.compact_state:
            raw = round(raw, _SCORE_DECIMALS)
        recent = self.recent_scores
        # Report only a score that beats everything in the refractory period: for any global threshold the
        # first crossing of an episode is reported and the rest of the episode is not (NAB counts each FP point).
        score = raw if not recent or raw > max(recent) else 0.0
        recent.append(raw)
        return score

    def _range_break_score(self, x: float, seen_lo: float, seen_hi: float) -> float:
        """``1 - range_break_shortfall`` for a break just at the margin, approaching 1 as the excess grows."""
        c = self.config
        width = seen_hi - seen_lo
        if width <= 0:
            return 1.0
        excess = (x - seen_hi) / width if x > seen_hi else (seen_lo - x) / width
        return 1.0 - c.range_break_shortfall * math.exp(-(excess - c.range_margin) / c.range_break_scale)

    def _gate(self, art: ArtView, x: float, raw: float, range_break: bool) -> float:
        """Feed the ART view; OR in a new cluster's (penalised) confidence, damp the score away from one."""
        c = self.config
        if self.n <= c.art_phase:
            return raw  # before the ART view's first block: it has not seen the series, so it has no say
        if art.blocks < art.warmup:
            # the ART view is still learning its categories and cannot fire: it has no say yet, so it must not
            # damp either (a series shorter than the warm-up would otherwise be damped everywhere)
            art.update(x)
            return raw
        self.fire_count *= self._fire_decay
        confidence = art.update(x)
        if confidence > 0:
            self.last_fire = self.n
            penalty = 1.0 / (1.0 + c.fire_penalty * self.fire_count)
            raw *= penalty
            confidence = min(1.0, confidence) * penalty
            self.fire_count += 1.0
            raw += confidence * (1.0 - raw)
        if not range_break and self.n - self.last_fire > c.gate_points:
            raw *= c.gate_damping
        return raw

    def _calibrate(self, raw: float) -> float:
        """``raw`` less a share of the series' typical score, rescaled so that 1 stays 1; then learn ``raw``."""
        c = self.config
        offset = c.calibration_weight * self.typical_score
        alpha = max(2.0 / (c.calibration_span + 1.0), 1.0 / (self.n - c.warmup))
        self.typical_score += alpha * (raw - self.typical_score)
        return max(0.0, raw - offset) / (1.0 - offset)

    def _level_view(self, x: float) -> float:
        """1 - exp(-z / z_scale) for the z-score of ``x`` against exponentially weighted mean and variance."""
        z = abs(x - self.mean) / (math.sqrt(self.var) + 1e-9)
        alpha = self._alpha if self.n * self._alpha > 1.0 else 1.0 / self.n
        delta = x - self.mean
        self.mean += alpha * delta
        self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)
        return 1.0 - math.exp(-z / self.config.z_scale)

    def _quantise(self, x: float, offset: float = 0.0) -> int:
        """``x``'s level on the range seen so far (which already includes the current point), on the grid shifted
        by ``offset`` of a level."""
        levels = self.config.levels
        width = self.hi - self.lo
        top = levels - 1 if offset == 0 else levels
        return 0 if width <= 0 else min(top, int((x - self.lo) / width * levels + offset))

    def to_state(self) -> dict[str, Any]:
        """JSON-able state: at most ``max_context * (grids * max_contexts + max_block_contexts + grids + 1)
        + refractory`` numbers, the ART view's (``ArtView.to_state``) and a few scalars."""
        return {
            "v": STATE_VERSION,
            "n": self.n,
            "mean": self.mean,
            "var": self.var,
            "lo": self.lo if math.isfinite(self.lo) else None,
            "hi": self.hi if math.isfinite(self.hi) else None,
            "block_sum": self.block_sum,
            "typical_score": self.typical_score,
            "points": [view.to_state() for view in self.points],
            "blocks": self.blocks.to_state(),
            "scores": list(self.recent_scores),
            "art": None if self.art is None else self.art.to_state(),
            "fire_count": self.fire_count,
            "last_fire": self.last_fire,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], config: DetectorConfig | None = None) -> StreamingAnomalyDetector:
        """Rebuild a detector from ``to_state`` output (with the same config); it continues exactly."""
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
            raise ValueError(f"detector state must be a dict with v={STATE_VERSION} (from to_state)")
        detector = cls(config)
        detector.n = int(state["n"])
        detector.mean, detector.var = float(state["mean"]), float(state["var"])
        detector.lo = math.inf if state["lo"] is None else float(state["lo"])
        detector.hi = -math.inf if state["hi"] is None else float(state["hi"])
        detector.block_sum = float(state["block_sum"])
        detector.typical_score = float(state["typical_score"])
        if len(state["points"]) != len(detector.points):
            raise ValueError(f"detector state was saved with another number of grids than {len(detector.points)}")
        for view, view_state in zip(detector.points, state["points"], strict=True):
            view.restore(view_state)
        detector.blocks.restore(state["blocks"])
        detector.recent_scores.extend(float(score) for score in state["scores"])
        if (state["art"] is None) != (detector.art is None):
            raise ValueError(f"detector state was saved with another art setting than {detector.config.art}")
        if detector.art is not None:
            detector.art.restore(state["art"])
        detector.fire_count = float(state["fire_count"])
        detector.last_fire = int(state["last_fire"])
        return detector
