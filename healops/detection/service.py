"""One service's detectors, fed one tick at a time: its eight metrics and its log records in, signals out.

Per series a :class:`LevelBaseline` learns the normal level and spread online (exponentially weighted mean and
mean absolute deviation, ~``span`` ticks, so it follows the daily cycle) and scores each point as a directional
robust z-score. Points that score as anomalous are not learned (a long fault stays anomalous), for at most
``max_frozen`` ticks (then a lasting shift becomes the new normal). Spreads have a floor relative to the level
(and, for percentages, in points), so a series with almost no noise does not alarm on a rounding step.

What the fleet's normal looks like is handled by *explanation*, not by per-series thresholds: CPU is watched as
CPU x live replicas per request (a traffic burst raises CPU and requests together; scaling changes replicas),
and a latency or CPU rise during a traffic burst (requests far above their own baseline) or in the ticks after
a deploy (a "deployment started" log event) is a weak signal, and so is an error-rate rise in proportion to
the burst (``load_error_ratio``; a larger one is a fault of its own), a CPU-per-request rise in proportion to it
(``load_cpu_ratio``) and a CPU-per-request rise that leaves CPU under ``cpu_relevant_pct`` (an idle service
with room to spare). Memory and disk are forecast (Theil-Sen, ``prediction.forecast_exhaustion``, over the last
8 ticks for a fast fill and the last 32 for a slow one); error rate also feeds a multi-window burn-rate monitor;
the logs feed an error-storm detector and a new-exception-signature tracker.

State (``to_state``/``from_state``) is a JSON-able dict of a few KB, bounded by the burn-rate window and the
signature bound.

Logs may be observed later than metrics (``log_tick`` is the last tick whose logs were seen, ``last_tick`` the
last tick whose metrics were): the detector reads a bounded number of services' logs per run, and
``log_urgency`` says which services' logs should be read before their metrics are scored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from healops.detection.logs import ErrorStormDetector, ExceptionSignatureTracker
from healops.detection.prediction import (
    BurnRateMonitor,
    BurnRateRule,
    ExhaustionForecast,
    forecast_exhaustion,
    theil_sen,
)
from healops.detection.signals import Signal

STATE_VERSION = 1


@dataclass(frozen=True)
class ServiceDetectorConfig:
    """Global settings (the same for every service and series)."""

    tick_seconds: float = 60.0
    span_ticks: float = 30.0  # horizon of the level and spread estimates
    warmup_ticks: int = 10  # ticks learned before a level is scored
    z_signal: float = 6.0  # robust z at which a level change is a signal
    relative_floor: float = 0.10  # spread floor: this fraction of the level
    percent_floor: float = 1.0  # spread floor of percentage series, in points
    max_frozen: int = 120  # ticks an anomalous series stops learning before it accepts a new level
    load_explains_z: float = 3.0  # requests this far above baseline: a burst, which explains rises elsewhere
    surge_z: float = 10.0  # ... up to this far (about twice the traffic): beyond, the surge is the incident
    # A burst's own timeouts raise the error rate's z to about twice the requests' z (at most 3.3x over 29
    # simulated days of 16 services); an error rate rising further than this multiple is a fault of its own
    # (a bad deploy during a burst reaches 5-7x) and stays a strong signal.
    load_error_ratio: float = 4.0
    # A burst's heavier requests raise CPU per request too, to at most 1.7x the requests' z (292 such readings
    # over 24 simulated days of 16 services); a cpu_spike fault that starts inside a burst reaches 3.0-4.6x in
    # its first two ticks (fleet seeds 7, 11, 19), and was explained away until the burst ended. This sits
    # between the two.
    load_cpu_ratio: float = 2.25
    deploy_grace_ticks: int = 3  # ticks after a deploy event in which latency rises are weak
    # CPU per request rising while CPU stays under this is weak: the service has room to spare. At night a benign
    # burst's extra work (a batch job) nearly doubles an idle service's CPU per request at 20-25% CPU; the
    # smallest cpu_spike fault (+10 points) reaches 21-34%, the default one (+40) 50% or more.
    cpu_relevant_pct: float = 30.0
    # A traffic surge (requests beyond surge_z) is an incident of its own when it leaves the CPU at or above this:
    # the headroom under the 85% band is nearly gone, one benign burst (1.4x and +8 points) from saturation. A
    # quiet service at night takes four times its traffic at 70-100% CPU with no other symptom (auth, ledger-db,
    # inventory between 00:00 and 06:00, fleet seed 7), notifications at 44-57% (room to spare); a scale-out sized
    # to 50% (healops.remediation.sizing) leaves it under this, so the surge it answered does not reopen the incident.
    surge_cpu_pct: float = 65.0
    # Theil-Sen exhaustion forecasts over two windows of consecutive ticks: the short one warns early of a fast
    # fill, the long one sees a slow trend that noise hides from the short one; each must be certain enough:
    # (eta_high - eta_low) / eta at most its max spread (a forecast this uncertain waits). At 0.6 the short
    # window took four ticks of noise rising together for a leak (test_fleet_detection.NOISE_EXCURSION).
    forecast_points: int = 8
    forecast_max_spread: float = 0.45
    forecast_long_points: int = 32
    forecast_long_max_spread: float = 0.6
    # the long window's trend must hold over all of it: the slope of its older half at least this share of the
    # newer half's (a window that straddles the start of a fill sees a slope too shallow, so an ETA too long)
    forecast_long_min_steadiness: float = 0.5
    forecast_horizon_ticks: float = 60.0  # a resource running out sooner opens a predicted incident
    forecast_max_drift: float = 0.15  # the projected exhaustion tick may move this fraction of the ETA in a tick
    # A level that falls this many points in one tick was reset (a restart, an OOM kill, a rollback, a clean-up):
    # the climb before it says nothing of the trend after, and the forecast windows start again from the fall.
    # Memory and disk move by about a point a tick in noise; a window that straddled a rollback's 17-point fall
    # still projected the slow leak it had ended, and reopened the fixed incident.
    forecast_reset_drop: float = 5.0
    slo: float = 0.995  # availability objective of the burn-rate monitor
    max_signatures: int = 200
    signature_warmup_lines: int = 200


class LevelBaseline:
    """Online robust level and spread of one series; ``z(x)`` is (x - level) / spread.

    The first ``warmup`` points (the ticks learned before a level is scored) set the level as their median and the
    spread from their median absolute deviation, not as their running mean: a fault that starts in the warm-up
    (a stack deployed minutes before it) would otherwise be averaged into the normal it is then scored against.
    A CPU spike in the last 2 of 10 warm-up ticks made CPU per request's mean 1.6x and its spread 13x the fleet's
    normal, so the spike scored z < 6 for its 15 ticks and, at night (no timeouts, no alarm), opened nothing
    (docs/lab-notes.md). After the warm-up the level moves as an exponentially weighted mean."""

    # The mean absolute deviation of Gaussian noise is 1.1829 times its median absolute deviation.
    MEAN_TO_MEDIAN_DEVIATION = 1.1829

    def __init__(self, alpha: float, floor_rel: float, floor_abs: float, warmup: int = 0) -> None:
        self.alpha = alpha
        self.floor_rel = floor_rel
        self.floor_abs = floor_abs
        self.warmup = warmup
        self.n = 0
        self.mean = 0.0
        self.dev = 0.0
        self.frozen = 0
        self.warming: list[float] = []  # the points learned so far while n < warmup (emptied when it ends)

    def spread(self) -> float:
        # 1.2533 x mean absolute deviation estimates the standard deviation of Gaussian noise
        return max(1.2533 * self.dev, self.floor_rel * abs(self.mean), self.floor_abs, 1e-9)

    def z(self, x: float) -> float:
        return (x - self.mean) / self.spread() if self.n else 0.0

    def learn(self, x: float, anomalous: bool, max_frozen: int) -> None:
        if anomalous and self.frozen < max_frozen:
            self.frozen += 1
            return
        self.frozen = 0
        self.n += 1
        if self.n <= self.warmup:
            self.warming.append(x)
            self.mean = _median(self.warming)
            self.dev = self.MEAN_TO_MEDIAN_DEVIATION * _median([abs(v - self.mean) for v in self.warming])
            if self.n == self.warmup:
                self.warming = []
            return
        alpha = max(self.alpha, 1.0 / self.n)
        delta = x - self.mean
        self.mean += alpha * delta
        self.dev += alpha * (abs(delta) - self.dev) if self.n > 1 else 0.0

    def to_state(self) -> list[Any]:
        state: list[Any] = [self.n, round(self.mean, 6), round(self.dev, 6), self.frozen]
        return [*state, [round(v, 6) for v in self.warming]] if self.warming else state

    def restore(self, state: Sequence[Any]) -> None:
        self.n, self.mean, self.dev, self.frozen = int(state[0]), float(state[1]), float(state[2]), int(state[3])
        if len(state) > 4:
            self.warming = [float(v) for v in state[4]]
        elif 0 < self.n < self.warmup:
            # saved mid-warm-up by a version that kept no points: what it learned stands as one point
            self.warming = [self.mean]


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


class LevelStreamScorer:
    """One series scored as the service detector scores its level series, as a stream of scores in [0, 1).

        The same :class:`LevelBaseline` with the same settings (span, warm-up, spread floor, learning paused while a
        point is half-way to a signal, for at most ``max_frozen`` ticks), on the undirected z (a series with no known
        bad direction, as in NAB); the score is ``|z| / (|z| + z_signal)`` (0.5 at the signal threshold; it reaches 1 in
    floating point only at infinity, so far breaks keep their order under NAB's threshold sweep). As the
        correlation keeps one episode open until ``quiet_ticks`` pass without a signal, a point is reported only when
        its score beats every score of the last ``quiet_ticks`` points. ``healops bench nab --scorer level`` scores it.
    """

    def __init__(self, config: ServiceDetectorConfig | None = None, quiet_ticks: int = 10) -> None:
        self.config = c = config or ServiceDetectorConfig()
        self.level = LevelBaseline(2.0 / (c.span_ticks + 1.0), c.relative_floor, 0.0, c.warmup_ticks)
        self.recent: list[float] = []
        self.quiet_ticks = quiet_ticks

    def update(self, value: float) -> float:
        c = self.config
        x = float(value)
        scored = self.level.n >= c.warmup_ticks
        z = abs(self.level.z(x)) if scored else 0.0
        self.level.learn(x, scored and z >= c.z_signal / 2, c.max_frozen)
        raw = z / (z + c.z_signal)
        score = raw if not self.recent or raw > max(self.recent) else 0.0
        self.recent.append(raw)
        del self.recent[: -self.quiet_ticks]
        return score


# Series scored by level: name -> (is a percentage, direction that is bad)
LEVEL_SERIES: dict[str, tuple[bool, int]] = {
    "ErrorRate": (True, +1),
    "LatencyP50": (False, +1),
    "LatencyP99": (False, +1),
    "CPUPerRequest": (False, +1),
    "RequestCount": (False, +1),
    "Heartbeat": (False, -1),
}
FORECAST_SERIES = {"MemoryUtilization": "memory_exhaustion_predicted", "DiskUtilization": "disk_exhaustion_predicted"}


@dataclass
class ServiceDetector:
    service: str
    config: ServiceDetectorConfig = field(default_factory=ServiceDetectorConfig)
    last_tick: int | None = None
    deploy_tick: int | None = None
    log_tick: int | None = None  # the last tick whose logs were observed

    def __post_init__(self) -> None:
        c = self.config
        alpha = 2.0 / (c.span_ticks + 1.0)
        self.levels = {
            name: LevelBaseline(alpha, c.relative_floor, c.percent_floor if pct else 0.0, c.warmup_ticks)
            for name, (pct, _) in LEVEL_SERIES.items()
        }
        self.recent: dict[str, list[tuple[int, float]]] = {name: [] for name in FORECAST_SERIES}
        self.projected: dict[str, float] = {}  # per forecast series: the tick it last projected exhaustion at
        self.burn = BurnRateMonitor(c.slo, c.tick_seconds)
        self.storm = ErrorStormDetector()
        self.signatures = ExceptionSignatureTracker(c.signature_warmup_lines, c.max_signatures)

    # -- one tick -------------------------------------------------------------------------------------------

    def observe(
        self, tick: int, metrics: Mapping[str, float], logs: Sequence[Mapping[str, Any]] | None = ()
    ) -> list[Signal]:
        """Score ``tick`` (metrics by name, missing ones skipped; log records as the services write them, or None
        when this tick's logs are not read yet), then learn from it. Ticks must arrive in order; an old or
        repeated tick is ignored (at-least-once input)."""
        if self.last_tick is not None and tick <= self.last_tick:
            return []
        self.last_tick = tick
        if self.log_tick is None:
            self.log_tick = tick - 1  # logs are owed from the first tick scored: read late, never skipped
        signals: list[Signal] = []
        if logs is not None:
            signals += self.observe_logs(tick, logs)  # first: a deploy event explains this tick's latency
        signals += self._level_signals(tick, metrics)
        signals += self._forecast_signals(tick, metrics)
        signals += self._burn_signals(tick, metrics)
        return signals

    def observe_logs(self, tick: int, logs: Sequence[Mapping[str, Any]]) -> list[Signal]:
        """Learn ``tick``'s log records (all of them: an empty list is a tick without lines); ticks in order, an
        old or repeated one ignored. Used alone when logs are read later than the tick's metrics."""
        if self.log_tick is not None and tick <= self.log_tick:
            return []
        self.log_tick = tick
        return self._log_signals(tick, logs)

    def log_urgency(self, metrics: Mapping[str, float]) -> float:
        """How far (robust z over the signal threshold) the worst level series of ``metrics`` is from its normal,
        without learning: at 0.5 or more the service's logs are read before its metrics are scored."""
        values = self._level_values(metrics)
        worst = 0.0
        for name, (_, direction) in LEVEL_SERIES.items():
            level = self.levels[name]
            if name in values and level.n >= self.config.warmup_ticks:
                z = level.z(values[name])
                worst = max(worst, abs(z) if name == "RequestCount" else direction * z)  # a surge or a drop
        return worst / self.config.z_signal

    @staticmethod
    def _level_values(metrics: Mapping[str, float]) -> dict[str, float]:
        """The finite metrics, with CPU per request derived (CPU x live replicas per request)."""
        values = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
        heartbeat, requests, cpu = values.get("Heartbeat"), values.get("RequestCount"), values.get("CPUUtilization")
        if heartbeat and requests and cpu is not None and requests > 0:
            values["CPUPerRequest"] = cpu * heartbeat / requests * 1000.0
        return values

    def _level_signals(self, tick: int, metrics: Mapping[str, float]) -> list[Signal]:
        c = self.config
        values = self._level_values(metrics)
        requests = values.get("RequestCount")
        request_z = self.levels["RequestCount"].z(requests) if requests is not None else 0.0
        load_burst = self.levels["RequestCount"].n >= c.warmup_ticks and c.load_explains_z <= request_z < c.surge_z
        deploying = self.deploy_tick is not None and 0 <= tick - self.deploy_tick <= c.deploy_grace_ticks
        cpu = values.get("CPUUtilization")
        idle_cpu = cpu if cpu is not None and cpu < c.cpu_relevant_pct else None
        signals: list[Signal] = []
        for name, (_, direction) in LEVEL_SERIES.items():
            if name not in values:
                continue
            x = values[name]
            level = self.levels[name]
            z = direction * level.z(x)
            scored = level.n >= c.warmup_ticks
            anomalous = scored and z >= c.z_signal
            if anomalous and name != "RequestCount":
                explained = load_burst and z < self._burst_share(name) * request_z
                signal = self._level_signal(tick, name, x, level.mean, z, explained, deploying, idle_cpu)
                if signal is not None:
                    signals.append(signal)
            elif anomalous and z >= c.surge_z and cpu is not None and cpu >= c.surge_cpu_pct:
                signals.append(self._surge_signal(tick, x, level.mean, z, cpu))
            level.learn(x, anomalous or (scored and z >= c.z_signal / 2), c.max_frozen)
        return signals

    def _burst_share(self, name: str) -> float:
        """How many times the requests' z a burst can raise ``name``'s z (infinite: any rise is the burst's)."""
        c = self.config
        return {"ErrorRate": c.load_error_ratio, "CPUPerRequest": c.load_cpu_ratio}.get(name, math.inf)

    def _measured(self, tick: int, name: str, x: float, mean: float, z: float) -> dict[str, Any]:
        """The fields every level signal keeps: where, when, which metric, its value, normal and z."""
        return {
            "service": self.service,
            "tick": tick,
            "metric": name,
            "value": round(x, 3),
            "score": round(z, 2),
            "baseline": round(mean, 3),
        }

    def _surge_signal(self, tick: int, requests: float, mean: float, z: float, cpu: float) -> Signal:
        """Requests far beyond a burst with the CPU near the band: saturation is one burst away (strong)."""
        text = (
            f"requests {requests / max(mean, 1e-9):.1f}x their normal (z={z:.1f}), beyond a traffic burst, with CPU "
            f"at {cpu:.0f}% (at or above {self.config.surge_cpu_pct:g}%: little headroom left)"
        )
        common = self._measured(tick, "RequestCount", requests, mean, z)
        return Signal(kind="traffic_surge", strong=True, detail=text, **common)

    def _level_signal(
        self,
        tick: int,
        name: str,
        x: float,
        mean: float,
        z: float,
        load_burst: bool,
        deploying: bool,
        idle_cpu: float | None = None,
    ) -> Signal | None:
        """``idle_cpu``: the CPU utilisation when it is under ``cpu_relevant_pct`` (a CPU-per-request rise is then
        weak: the service has room to spare)."""
        common = self._measured(tick, name, x, mean, z)
        why = " during a traffic burst" if load_burst else " after a deploy" if deploying else ""
        if name == "ErrorRate":
            # a modest burst's timeouts are the capacity's known limit, not a fault; a surge's are
            text = f"error rate {x:.1f}% against a normal {mean:.2f}% (z={z:.1f}){why if load_burst else ''}"
            return Signal(kind="error_rate", strong=not load_burst, detail=text, **common)
        if name == "Heartbeat":
            down = x <= 0.0
            text = f"{x:.0f} of {mean:.0f} replicas reporting" + (" (all down)" if down else "")
            return Signal(kind="heartbeat", strong=down, detail=text, **common)
        if name == "CPUPerRequest":
            if idle_cpu is not None and not why:
                why = f" with CPU at {idle_cpu:.0f}% (under {self.config.cpu_relevant_pct:g}%: room to spare)"
            text = f"CPU per request {x / max(mean, 1e-9):.1f}x its normal (z={z:.1f}){why}"
            return Signal(
                kind="cpu_per_request", strong=not (load_burst or idle_cpu is not None), detail=text, **common
            )
        text = f"{name} {x:.0f} ms against a normal {mean:.0f} ms (z={z:.1f}){why}"
        return Signal(kind="latency", strong=not (load_burst or deploying), detail=text, **common)

    def _forecast_signals(self, tick: int, metrics: Mapping[str, float]) -> list[Signal]:
        c = self.config
        windows = (
            (c.forecast_points, c.forecast_max_spread, 0.0, ""),
            (c.forecast_long_points, c.forecast_long_max_spread, c.forecast_long_min_steadiness, "@long"),
        )
        signals = []
        for name, kind in FORECAST_SERIES.items():
            if metrics.get(name) is None:
                continue
            recent = self.recent[name]
            value = float(metrics[name])
            if recent and recent[-1][1] - value >= c.forecast_reset_drop:
                recent.clear()  # reset: the windows refill from here
            recent.append((tick, value))
            del recent[: -max(c.forecast_points, c.forecast_long_points)]
            # every window is updated (each keeps its projection for the steadiness rule); the short one reports first
            found = [
                self._forecast(tick, recent, points, spread, steadiness, name + key)
                for points, spread, steadiness, key in windows
            ]
            forecast = next((f for f in found if f is not None), None)
            if forecast is None:
                continue
            what = "memory" if name == "MemoryUtilization" else "disk"
            text = (
                f"{what} at {forecast.level:.1f}% rising {forecast.slope * c.tick_seconds:.2f} points a tick: full in "
                f"{forecast.eta_seconds / 60:.1f} min ({forecast.eta_low_seconds / 60:.1f} to "
                f"{forecast.eta_high_seconds / 60:.1f})"
            )
            signals.append(
                Signal(
                    service=self.service,
                    tick=tick,
                    kind=kind,
                    score=round(c.forecast_horizon_ticks * c.tick_seconds / max(forecast.eta_seconds, 1.0), 2),
                    strong=True,
                    detail=text,
                    metric=name,
                    value=round(forecast.level, 3),
                    predicted=True,
                    eta_s=round(forecast.eta_seconds, 1),
                    eta_low_s=round(forecast.eta_low_seconds, 1),
                    eta_high_s=round(forecast.eta_high_seconds, 1),
                )
            )
        return signals

    def _forecast(
        self,
        tick: int,
        recent: list[tuple[int, float]],
        points: int,
        max_spread: float,
        min_steadiness: float,
        key: str,
    ) -> ExhaustionForecast | None:
        """The forecast over the last ``points`` ticks of ``recent`` if it predicts exhaustion within the horizon,
        certainly enough and steadily (its projection kept under ``key``; with ``min_steadiness``, its trend held
        over the whole window too); else None."""
        c = self.config
        window = recent[-points:]
        if len(window) < points or window[-1][0] - window[0][0] != points - 1:
            self.projected.pop(key, None)
            return None  # a full window of consecutive ticks only
        values = [v for _, v in window]
        half = points // 2
        older_mean, newer_mean = sum(values[:half]) / half, sum(values[half:]) / (points - half)
        rise_per_tick = (newer_mean - older_mean) / (points / 2)
        if rise_per_tick <= 0 or (100.0 - newer_mean) / rise_per_tick > 3 * c.forecast_horizon_ticks:
            # not rising, or far too slowly: the window's Theil-Sen fit (O(points^2)) cannot predict exhaustion
            self.projected.pop(key, None)
            return None
        times = [t * c.tick_seconds for t, _ in window]
        forecast = forecast_exhaustion(times, values, 100.0, c.forecast_horizon_ticks * c.tick_seconds)
        if not forecast.predicted or forecast.level >= 99.5 or not math.isfinite(forecast.eta_high_seconds):
            self.projected.pop(key, None)
            return None
        spread = (forecast.eta_high_seconds - forecast.eta_low_seconds) / max(forecast.eta_seconds, 1e-9)
        # the projected moment of exhaustion must also hold still between two ticks: a young trend in noise
        # moves it a lot, and an ETA that moves is not one to act on yet
        projected = tick + forecast.eta_seconds / c.tick_seconds
        previous = self.projected.get(key)
        self.projected[key] = round(projected, 2)
        steady = previous is not None and abs(projected - previous) * c.tick_seconds <= (
            c.forecast_max_drift * forecast.eta_seconds
        )
        if spread > max_spread or not steady:
            return None
        if min_steadiness > 0:
            older = theil_sen(times[:half], values[:half])[0]
            newer = theil_sen(times[half:], values[half:])[0]
            if older < min_steadiness * newer:
                return None
        return forecast

    def _burn_signals(self, tick: int, metrics: Mapping[str, float]) -> list[Signal]:
        rate, requests = metrics.get("ErrorRate"), metrics.get("RequestCount")
        if rate is None or requests is None or requests < 0:
            return []
        total = float(round(requests))
        errors = min(total, float(round(total * max(0.0, float(rate)) / 100.0)))
        fired: list[BurnRateRule] = self.burn.update(errors, total)
        if not fired:
            return []
        rule = fired[0]
        long_ticks, _ = self.burn.windows[rule]
        burn = self.burn.burn_rate(long_ticks)
        text = f"error budget burning {burn:.1f}x over {rule.name} (SLO {self.config.slo:.1%})"
        signal = Signal(
            service=self.service, tick=tick, kind="burn_rate", score=round(burn, 2), strong=True, detail=text
        )
        return [signal]

    def _log_signals(self, tick: int, logs: Sequence[Mapping[str, Any]]) -> list[Signal]:
        errors = 0
        new: list[str] = []
        for record in logs:
            if not isinstance(record, Mapping):
                continue
            level = str(record.get("level", ""))
            if record.get("event") == "deploy":
                self.deploy_tick = tick
            exception = record.get("exception")
            if isinstance(exception, Mapping):
                text = f"{exception.get('type', '')}: {exception.get('message', '')}"
            else:
                text = str(record.get("message", ""))
            key = self.signatures.observe(f"{level} {text}")
            if level == "ERROR":
                errors += 1
                if key is not None and len(new) < 3:
                    new.append(f"{str(exception.get('type', 'error')) if isinstance(exception, Mapping) else 'error'}")
        signals = []
        verdict = self.storm.update(errors)
        if verdict.storm:
            text = f"{errors} error lines in a tick against a normal {verdict.baseline:.1f} (z={verdict.z:.1f})"
            signals.append(
                Signal(
                    service=self.service,
                    tick=tick,
                    kind="error_storm",
                    score=round(verdict.z, 2),
                    strong=False,
                    detail=text,
                    value=errors,
                )
            )
        if new:
            text = "new exception signature(s): " + ", ".join(n[:80] for n in new)
            signals.append(
                Signal(service=self.service, tick=tick, kind="new_exception", score=1.0, strong=False, detail=text)
            )
        return signals

    # -- state ----------------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "last_tick": self.last_tick,
            "deploy_tick": self.deploy_tick,
            "log_tick": self.log_tick,
            "levels": {name: level.to_state() for name, level in self.levels.items()},
            "recent": {name: [[t, round(v, 4)] for t, v in points] for name, points in self.recent.items()},
            "projected": dict(self.projected),
            "burn": [[int(e), int(t)] for e, t in self.burn.ticks],
            "storm": self.storm.to_state(),
            "signatures": self.signatures.to_state(),
        }

    @classmethod
    def from_state(
        cls, service: str, state: Mapping[str, Any], config: ServiceDetectorConfig | None = None
    ) -> ServiceDetector:
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"service detector state must have v={STATE_VERSION} (from to_state)")
        c = config or ServiceDetectorConfig()
        # a state saved before logs had their own cursor observed them with the metrics
        log_tick = state.get("log_tick", state.get("last_tick"))
        detector = cls(service, c, state.get("last_tick"), state.get("deploy_tick"), log_tick)
        for name, level_state in state["levels"].items():
            if name in detector.levels:
                detector.levels[name].restore(level_state)
        for name, points in state["recent"].items():
            if name in detector.recent:
                detector.recent[name] = [(int(t), float(v)) for t, v in points]
        detector.projected = {str(k): float(v) for k, v in state.get("projected", {}).items()}
        detector.burn = BurnRateMonitor.from_state({"ticks": state["burn"]}, c.slo, c.tick_seconds)
        detector.storm.load_state(state["storm"])
        detector.signatures = ExceptionSignatureTracker.from_state(
            state["signatures"], c.signature_warmup_lines, c.max_signatures
        )
        return detector
