"""A service's logs observed later than its metrics: the same learning, and when to read them first (no AWS)."""

from __future__ import annotations

from healops.detection.service import ServiceDetector
from tests.unit.fleet.sim import Sim


def test_logs_observed_after_their_metrics_teach_the_same_as_logs_observed_with_them() -> None:
    sim = Sim(size=8, seed=7)
    lockstep, late = ServiceDetector("payments"), ServiceDetector("payments")
    backlog = []
    late_signals, lockstep_signals = [], []
    for i in range(90):
        if i == 60:
            sim.inject("payments", "error_storm")
        t = sim.step()["payments"]
        lockstep_signals += [s.kind for s in lockstep.observe(t.tick, t.metrics, t.logs) if s.metric is None]
        late_signals += [s.kind for s in late.observe(t.tick, t.metrics, None) if s.metric is None]
        backlog.append((t.tick, t.logs))
        if i % 7 == 6:  # logs read every seventh tick, all at once
            for tick, logs in backlog:
                late_signals += [s.kind for s in late.observe_logs(tick, logs)]
            backlog.clear()
    for tick, logs in backlog:
        late_signals += [s.kind for s in late.observe_logs(tick, logs)]
    assert "error_storm" in lockstep_signals and sorted(late_signals) == sorted(lockstep_signals)
    assert late.log_tick == lockstep.log_tick == lockstep.last_tick
    assert late.to_state()["storm"] == lockstep.to_state()["storm"]
    assert late.to_state()["signatures"] == lockstep.to_state()["signatures"]


def test_a_repeated_or_old_log_tick_is_ignored() -> None:
    detector = ServiceDetector("auth")
    record = {"level": "ERROR", "message": "x", "exception": {"type": "E", "message": "m"}}
    detector.observe_logs(5, [record])
    observed = detector.signatures.observed
    assert detector.observe_logs(5, [record]) == [] and detector.observe_logs(4, [record]) == []
    assert detector.signatures.observed == observed and detector.log_tick == 5


def test_a_state_saved_before_the_log_cursor_existed_had_its_logs_observed_with_its_metrics() -> None:
    sim = Sim(size=8, seed=7)
    detector = ServiceDetector("auth")
    for _ in range(3):
        t = sim.step()["auth"]
        detector.observe(t.tick, t.metrics, t.logs)
    state = detector.to_state()
    assert state["log_tick"] == state["last_tick"]
    del state["log_tick"]
    assert ServiceDetector.from_state("auth", state).log_tick == state["last_tick"]


def test_logs_are_urgent_when_a_metric_leaves_its_normal_and_not_before() -> None:
    sim = Sim(size=8, seed=7)
    detector = ServiceDetector("payments")
    urgency = []
    for i in range(70):
        if i == 60:
            sim.inject("payments", "error_storm")
        t = sim.step()["payments"]
        urgency.append(detector.log_urgency(t.metrics))
        detector.observe(t.tick, t.metrics, t.logs)
    assert max(urgency[:60]) < 0.5 <= min(urgency[61:])
