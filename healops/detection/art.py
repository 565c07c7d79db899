"""Online ART view of one series: a *new-shape event* when a window of recent blocks fits no learned category.

An own, past-only implementation of the ideas of ARTime (adaptive resonance theory for time series):

- the series is downsampled into blocks of ``block`` points, each kept as its most extreme value relative to a
  fast moving average (a spike survives, noise around the mean does not), quantised to ``levels`` levels of the
  range seen so far and snapped to a slowly tracked median when within ``chomp`` of the range of it (so small
  wiggles around the usual level are one value);
- the last ``window`` (8) blocks form a feature vector: the Haar wavelet of the min-max normalised window (its
  shape) and the window's levels on the seen range (where it sits);
- a dual-vigilance fuzzy ART clusters the vectors. A vector matching a category at or above the upper vigilance
  widens it; one at or above the lower vigilance starts a new category silently (a variant of a known shape);
  one below both is a *new cluster*: that is the event, with a confidence from how far below vigilance its best
  match is. The vigilances start at the typical match of the warm-up and then follow the series' own match
  statistics, so a restless series needs a worse match to fire than a regular one.

At most ``max_categories`` categories are kept, the least recently used evicted first, so the state is bounded.
With ``compact``, the features (all in [0, 1]) are kept on a grid of 1/255, so a category is stored as one byte a
feature (``to_state`` packs them as base64), and the match statistics at 4 decimals: the state a Lambda persists
is then a few KB instead of ~50, and the view restored from it continues exactly as the one that never stopped.
"""

from __future__ import annotations

import base64
import math
from typing import Any

_S2 = 1.0 / math.sqrt(2.0)
WINDOW = 8  # blocks per feature window: the Haar transform below is written out for 8 values
_INITIAL_VIGILANCE = 0.8
_UPPER_VIGILANCE_CAP = 0.97  # the upper vigilance follows the mean match, never above this
_LOWER_VIGILANCE_GAIN = 0.19  # share of the gap to the recent worst match the lower vigilance closes per update
_MEDIAN_STEP = 0.005  # share of the range the tracked median moves per block
_SPIKE_SHARE = 0.1  # a block extreme within this share of the block mean is replaced by the mean
_LEVEL_WEIGHT = 1.5  # weight of the poor fit of the newest block in the confidence
_BYTE = 255  # compact: feature steps (one byte a feature)
_DECIMALS = 4  # compact: decimals kept of the match statistics


def _on_byte_grid(value: float) -> float:
    """``value`` clamped to [0, 1] and rounded to a multiple of 1/255 (exactly one byte when stored)."""
    return min(_BYTE, max(0, round(value * _BYTE))) / _BYTE


def _haar8(v: list[float]) -> list[float]:
    """Full-depth orthonormal Haar transform of 8 values: [a3, d3, d2 (2), d1 (4)]."""
    a1 = [(v[0] + v[1]) * _S2, (v[2] + v[3]) * _S2, (v[4] + v[5]) * _S2, (v[6] + v[7]) * _S2]
    d1 = [(v[0] - v[1]) * _S2, (v[2] - v[3]) * _S2, (v[4] - v[5]) * _S2, (v[6] - v[7]) * _S2]
    a2 = [(a1[0] + a1[1]) * _S2, (a1[2] + a1[3]) * _S2]
    d2 = [(a1[0] - a1[1]) * _S2, (a1[2] - a1[3]) * _S2]
    return [(a2[0] + a2[1]) * _S2, (a2[0] - a2[1]) * _S2, *d2, *d1]


def _unit(values: list[float]) -> list[float]:
    """``values`` shifted and scaled onto [0, 1] (all zeros if they are constant)."""
    low = min(values)
    shifted = [v - low for v in values]
    high = max(shifted)
    return [v / high for v in shifted] if high > 0 else shifted


class ArtView:
    """One series' ART view: ``update(value)`` returns a new-cluster confidence in (0, 1], or 0 if no event."""

    def __init__(
        self, block: int, levels: int, chomp: float, warmup: int, max_categories: int, compact: bool = False
    ) -> None:
        self.block = block
        self.compact = compact
        self.levels = levels
        self.chomp = chomp
        self.warmup = warmup  # blocks learned before anything fires; the vigilances start from their matches
        self.max_categories = max_categories
        self.mask = WINDOW * 3 // 2  # blocks after an event (or a vigilance update) that need a worse match to fire
        self.pending: list[float] = []  # values of the block being filled
        self.fast_mean: float | None = None
        self.lo = math.inf
        self.hi = -math.inf
        self.median: float | None = None
        self.window: list[float] = []  # the last WINDOW block values, quantised and snapped
        self.blocks = 0
        # categories: lower and upper corners of fuzzy-ART boxes (2 * WINDOW values each); last block each used
        self.lower: list[list[float]] = []
        self.upper: list[list[float]] = []
        self.used: list[int] = []
        self.sizes: list[float] = []  # per category the fuzzy-ART denominator (derived: kept to save time)
        self.stored_lo: float | None = None  # the range the stored level features are expressed on
        self.stored_hi: float | None = None
        self.rho_lower = self.rho_upper = _INITIAL_VIGILANCE
        self.match_sum = 0.0
        self.match_count = 0
        self.recent_matches: list[float] = []  # the last warmup // 2 + 1 best matches
        self.recent_gaps: list[float] = []  # the last warmup + 1 (upper vigilance - best match)
        self.warmup_matches: list[float] = []
        self.last_event = -(10**9)
        self.last_event_match = 0.0
        self.last_vigilance_update = 0
        self.mask_after_category = False
        self.blocks_without_new = 0
        self.event_match_sum = 0.0
        self.event_match_count = 0
        self.event_match_last: float | None = None

    def update(self, x: float) -> float:
        if x < self.lo:
            self.lo = x
        if x > self.hi:
            self.hi = x
        pending = self.pending
        pending.append(x)
        if len(pending) < self.block:
            return 0.0
        mean = sum(pending) / len(pending)
        high, low = max(pending), min(pending)
        self.pending = []
        self.fast_mean = mean if self.fast_mean is None else self.fast_mean
        self.fast_mean = (self.fast_mean + mean) / 2
        value = low if abs(high - self.fast_mean) < abs(low - self.fast_mean) else high
        if abs(value - mean) < _SPIKE_SHARE * abs(mean):
            value = mean
        lo, hi = self.lo, self.hi
        width = hi - lo
        if width > 0:
            value = lo + round((value - lo) / width * self.levels) * width / self.levels
        if self.median is None:
            self.median = value
        elif value > self.median:
            self.median += _MEDIAN_STEP * width
        elif value < self.median:
            self.median -= _MEDIAN_STEP * width
        if abs(value - self.median) < self.chomp * width:
            value = self.median
        window = self.window
        window.append(value)
        if len(window) > WINDOW:
            del window[0]
        self.blocks += 1
        if len(window) < WINDOW:
            return 0.0
        if self.stored_lo != lo or self.stored_hi != hi:
            self._rescale(lo, hi)
        levels = [(v - lo) / width for v in window] if width > 0 else [0.0] * WINDOW
        features = _unit(_haar8(_unit(levels))) + levels
        return self._detect([_on_byte_grid(v) for v in features] if self.compact else features)

    def _rescale(self, lo: float, hi: float) -> None:
        """Stored level features are in units of the old range: map them onto the new one."""
        if self.stored_lo is None or self.stored_hi is None:
            self.stored_lo, self.stored_hi = lo, hi
            return
        old_width, new_width = self.stored_hi - self.stored_lo, hi - lo
        if new_width <= 0:
            return
        scale = 0.0 if old_width <= 0 else old_width / new_width  # a degenerate old range: every level sat at lo
        shift = (self.stored_lo - lo) / new_width
        for lower, upper in zip(self.lower, self.upper, strict=True):
            for j in range(WINDOW, 2 * WINDOW):
                lower[j] = lower[j] * scale + shift
                upper[j] = upper[j] * scale + shift
                if self.compact:
                    lower[j], upper[j] = _on_byte_grid(lower[j]), _on_byte_grid(upper[j])
        self.sizes = [self._size(lower, upper) for lower, upper in zip(self.lower, self.upper, strict=True)]
        self.stored_lo, self.stored_hi = lo, hi

    @staticmethod
    def _size(lower: list[float], upper: list[float]) -> float:
        size: float = len(lower)
        for low, high in zip(lower, upper, strict=True):
            size += low - high
        return size if size > 0 else 1e-3

    def _learn(self, f: list[float]) -> tuple[bool, float, float]:
        """Match ``f`` against every category, learn it; (new cluster?, best match, newest-block fit of the best)."""
        last = len(f) - 1
        newest = f[last]
        size = len(f)
        best = best_fit = 0.0
        matches: list[tuple[float, int, float]] = []
        for index, (lower, upper, den) in enumerate(zip(self.lower, self.upper, self.sizes, strict=True)):
            num = size
            for x, low, high in zip(f, lower, upper, strict=True):
                num += (x if x < low else low) - (x if x > high else high)
            shape = num / den
            low, high = lower[last], upper[last]
            fit_den = low + 1.0 - high
            fit = 0.0
            if fit_den > 0:
                fit = ((newest if newest < low else low) + 1.0 - (newest if newest > high else high)) / fit_den
            match = shape * shape * shape * fit * fit
            matches.append((match, index, fit))
            if match > best:
                best, best_fit = match, fit
        new_cluster = True
        matches.sort(reverse=True)
        for match, index, _fit in matches:
            if match >= self.rho_upper:
                lower, upper = self.lower[index], self.upper[index]
                for j, x in enumerate(f):
                    if x < lower[j]:
                        lower[j] = x
                    if x > upper[j]:
                        upper[j] = x
                self.sizes[index] = self._size(lower, upper)
                self.used[index] = self.blocks
                new_cluster = False
            elif match >= self.rho_lower and new_cluster:
                self._add(f)
                new_cluster = False
                break
            else:
                break
        if new_cluster:
            self._add(f)
        return new_cluster, best, best_fit

    def _add(self, f: list[float]) -> None:
        if len(self.lower) >= self.max_categories:
            oldest = min(range(len(self.used)), key=self.used.__getitem__)
            del self.lower[oldest], self.upper[oldest], self.used[oldest], self.sizes[oldest]
        self.lower.append(list(f))
        self.upper.append(list(f))
        self.used.append(self.blocks)
        self.sizes.append(self._size(f, f))

    def _detect(self, f: list[float]) -> float:
        i = self.blocks
        if i <= self.warmup:
            _, match, _ = self._learn(f)
            if self.compact:
                match = round(match, _DECIMALS)
            if i > self.warmup // 2:
                self.warmup_matches.append(match)
            if i == self.warmup:
                self.rho_lower = self.rho_upper = sum(self.warmup_matches) / max(1, len(self.warmup_matches))
                self.warmup_matches = []
                self.last_vigilance_update = i
            self._note(match)
            return 0.0
        mask = self.mask
        update_after_event = i - self.last_event == mask
        update_on_schedule = i - self.last_vigilance_update >= self.warmup // 2
        masked_after_event = i - self.last_event <= mask
        if self.mask_after_category and self.blocks_without_new >= mask:
            self.mask_after_category = False
        new_cluster, match, fit = self._learn(f)
        if self.compact:
            match = round(match, _DECIMALS)
        self.blocks_without_new = 0 if new_cluster else self.blocks_without_new + 1
        self._note(match)
        last = self.event_match_last
        if i - self.last_event < mask and self.event_match_count and last is not None and match < last:
            self.event_match_sum += match - last
            self.event_match_last = match
        masking = self.mask_after_category or masked_after_event
        worse_than_last = match < self.last_event_match * (0.9 if masked_after_event else 0.7)
        score = 0.0
        if new_cluster and (not masking or worse_than_last):
            score = self._confidence(match, fit)
            self.event_match_sum += match
            self.event_match_count += 1
            self.event_match_last = match
            self.last_event_match = match
            self.last_event = i
        self.mask_after_category = new_cluster or self.mask_after_category
        if update_after_event or update_on_schedule:
            self._update_vigilance(i)
        return score

    def _note(self, match: float) -> None:
        self.match_sum += match
        self.match_count += 1
        self.recent_matches.append(match)
        if len(self.recent_matches) > self.warmup // 2 + 1:
            del self.recent_matches[0]
        gap = self.rho_upper - match
        self.recent_gaps.append(round(gap, _DECIMALS) if self.compact else gap)
        if len(self.recent_gaps) > self.warmup + 1:
            del self.recent_gaps[0]

    def _update_vigilance(self, i: int) -> None:
        worst = min(self.recent_matches)
        upper = min(_UPPER_VIGILANCE_CAP, self.match_sum / self.match_count)
        lower = self.rho_lower
        if lower <= worst:
            lower += (worst - lower) * _LOWER_VIGILANCE_GAIN
        else:
            decrease = 0.0
            if i > 2 * self.warmup:
                gaps = [min(0.37, gap) for gap in self.recent_gaps if gap > 0.05]
                if gaps:
                    decrease = sum(gaps) / len(gaps)
            lower -= max(0.01, decrease) / 2
            if self.event_match_count:
                lower = max(self.event_match_sum / self.event_match_count, lower)
        self.rho_lower = min(upper, lower)
        self.rho_upper = upper
        self.last_vigilance_update = i
        self.mask_after_category = True

    def _confidence(self, match: float, fit: float) -> float:
        shape = min(0.999, match)
        above_upper = ((1 - shape) - (1 - self.rho_upper)) / (1 - shape)
        above_lower = ((1 - shape) - (1 - self.rho_lower)) / (1 - shape)
        score = above_upper * 0.35 + above_lower * 0.65 + (1.0 - fit) * _LEVEL_WEIGHT
        return max(0.0, min(1.0, score))

    # ---- state ----

    _SCALARS = (
        "fast_mean", "median", "blocks", "stored_lo", "stored_hi", "rho_lower", "rho_upper", "match_sum",
        "match_count", "last_event", "last_event_match", "last_vigilance_update", "mask_after_category",
        "blocks_without_new", "event_match_sum", "event_match_count", "event_match_last",
    )  # fmt: skip
    _LISTS = ("pending", "window", "lower", "upper", "used", "recent_matches", "recent_gaps", "warmup_matches")

    def to_state(self) -> dict[str, Any]:
        """JSON-able state: at most ``max_categories * (4 * WINDOW + 1) + 2 * warmup + block + WINDOW + 4``
        numbers plus a few scalars."""
        state: dict[str, Any] = {name: getattr(self, name) for name in self._SCALARS}
        state.update({name: getattr(self, name) for name in self._LISTS})
        state["lo"] = self.lo if math.isfinite(self.lo) else None
        state["hi"] = self.hi if math.isfinite(self.hi) else None
        if self.compact:  # every feature is on the byte grid: one byte each
            for name in ("lower", "upper"):
                packed = bytes(round(v * _BYTE) for box in getattr(self, name) for v in box)
                state[name] = base64.b64encode(packed).decode("ascii")
        return json_copy(state)

    def restore(self, state: dict[str, Any]) -> None:
        if len(state["used"]) > self.max_categories or len(state["pending"]) >= self.block:
            raise ValueError("ART state was saved with another block or max_categories than this config")
        for name in self._SCALARS:
            setattr(self, name, state[name])
        for name in self._LISTS:
            setattr(self, name, json_copy(state[name]))
        if isinstance(state["lower"], str) != self.compact:
            raise ValueError(f"ART state was saved with another compact setting than {self.compact}")
        if self.compact:
            for name in ("lower", "upper"):
                packed = base64.b64decode(state[name])
                features = [b / _BYTE for b in packed]
                setattr(self, name, [features[k : k + 2 * WINDOW] for k in range(0, len(features), 2 * WINDOW)])
        self.lo = math.inf if state["lo"] is None else float(state["lo"])
        self.hi = -math.inf if state["hi"] is None else float(state["hi"])
        self.sizes = [self._size(lower, upper) for lower, upper in zip(self.lower, self.upper, strict=True)]


def json_copy(value: Any) -> Any:
    """A deep copy of nested lists/dicts of numbers (so state handed out is not aliased to live state)."""
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    return value
