"""Rule 5 of correlation: a caller's errors-only episode, opened a moment before its dependency's signals arrive,
is merged into the dependency's (issue 25: the alarm fast path handled the caller's alarm first, rooted an
episode of its own there, and the remediation restarted the healthy caller)."""

from __future__ import annotations

import pytest

from healops.detection.correlate import CorrelationState, DependencyGraph, correlate
from healops.detection.runner import alarm_signal
from healops.detection.signals import Signal

# edge calls search; search calls nothing
GRAPH = DependencyGraph({"edge": ["search"], "search": [], "web": ["edge"]})
TICK = 100


def alarm(service: str, tick: int = TICK) -> Signal:
    signal = alarm_signal(f"healops-{service}-error-rate", "Threshold Crossed", GRAPH.services, tick)
    assert signal is not None
    return signal


def metric(service: str, kind: str, tick: int) -> Signal:
    return Signal(service=service, tick=tick, kind=kind, score=9.0, strong=True, detail=f"{kind} on {service}")


def one_at_a_time(state: CorrelationState, signals: list[Signal]) -> list[str]:
    """Correlate each signal alone, as the fast path does with each alarm's state change; the changes made."""
    changes = []
    for signal in signals:
        changes += [f"{c.action}:{c.episode.root}" for c in correlate(state, [signal], signal.tick, GRAPH)]
    return changes


@pytest.mark.parametrize("order", [["edge", "search"], ["search", "edge"]])
def test_both_alarms_of_a_crash_in_either_order_leave_one_open_episode_rooted_at_the_dependency(
    order: list[str],
) -> None:
    state = CorrelationState()
    one_at_a_time(state, [alarm(s) for s in order])
    [episode] = state.open_episodes()
    assert episode.root == "search" and episode.linked == ["edge"]
    for other in state.episodes.values():
        if other is not episode:  # the caller's own, when its alarm came first: merged, not left open
            assert other.root == "edge" and other.resolved_by == "merged" and other.merged_into == episode.incident_id


def test_the_caller_first_is_opened_then_merged_with_a_reason_naming_both() -> None:
    state = CorrelationState()
    assert one_at_a_time(state, [alarm("edge")]) == ["open:edge"]
    changes = correlate(state, [alarm("search")], TICK, GRAPH)
    assert [(c.action, c.episode.root) for c in changes] == [("open", "search"), ("link", "search"), ("merge", "edge")]
    merge = changes[-1]
    assert "edge calls search" in merge.reasons[0] and changes[0].episode.incident_id in merge.reasons[0]


def test_the_dependency_s_metrics_a_tick_later_merge_the_caller_s_alarm_episode_and_its_own_caller() -> None:
    state = CorrelationState()
    one_at_a_time(state, [alarm("edge"), metric("web", "error_rate", TICK)])  # web joins edge's episode
    changes = correlate(state, [metric("search", "heartbeat", TICK + 1)], TICK + 1, GRAPH)
    assert [c.action for c in changes] == ["open", "link", "merge"]
    [episode] = state.open_episodes()
    assert episode.root == "search" and sorted(episode.linked) == ["edge", "web"]
    # the caller's later signals join the dependency's episode; its merged one is not reopened
    assert [c.action for c in correlate(state, [alarm("edge", TICK + 3)], TICK + 3, GRAPH)] == []
    assert [e.root for e in state.open_episodes()] == ["search"]


def test_a_caller_with_a_fault_of_its_own_is_not_merged() -> None:
    state = CorrelationState()
    correlate(state, [metric("edge", "error_rate", TICK), metric("edge", "cpu_per_request", TICK)], TICK, GRAPH)
    correlate(state, [alarm("search")], TICK, GRAPH)
    assert sorted(e.root for e in state.open_episodes()) == ["edge", "search"]


def test_a_caller_s_episode_older_than_merge_ticks_is_not_merged() -> None:
    state = CorrelationState()
    correlate(state, [alarm("edge")], TICK, GRAPH)
    correlate(state, [metric("search", "heartbeat", TICK + 3)], TICK + 3, GRAPH)
    assert sorted(e.root for e in state.open_episodes()) == ["edge", "search"]
