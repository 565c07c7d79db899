"""The detector's read schedule and the error-rate alarm's model (healops/detection/schedule.py)."""

from __future__ import annotations

import pytest

from healops.bench.prediction import detection_for, step
from healops.detection.schedule import ErrorRateAlarm, ReadSchedule, ScheduledDetection
from healops.fleet.simulator import MORNING_TICK, Simulator


def test_a_read_falls_on_every_nth_tick_shifted_by_its_phase() -> None:
    assert [t for t in range(30) if ReadSchedule(10).due(t)] == [0, 10, 20]
    assert [t for t in range(30) if ReadSchedule(10, phase=3).due(t)] == [3, 13, 23]
    assert all(ReadSchedule(1).due(t) for t in range(5))


@pytest.mark.parametrize("every", [0, 16])
def test_a_read_period_the_window_cannot_catch_up_is_refused_with_what_is_accepted(every: int) -> None:
    with pytest.raises(ValueError, match=rf"must be 1 to 15 ticks .* got {every}"):
        ReadSchedule(every)


def test_the_alarm_enters_alarm_on_the_third_breaching_point_in_a_row_once() -> None:
    alarm = ErrorRateAlarm()
    # missing data is not breaching; a point at the threshold is not above it
    entered = [alarm.update(v) for v in (9.0, None, 5.0, 9.0, 9.0, 9.0, 9.0, 1.0, 9.0, 9.0, 9.0)]
    assert entered == [False, False, False, False, False, True, False, False, False, False, True]


def test_the_reads_see_every_tick_the_alarm_opens_an_error_fault_before_the_read() -> None:
    """A read steps every tick since the last: an error storm opens at once through the alarm (on its third tick),
    and the read after it adds the error-rate signals of every tick to the same incident."""
    sim = Simulator(size=8, seed=7, tick=MORNING_TICK - 60)
    scheduled = ScheduledDetection(detection_for(sim), ReadSchedule(10, phase=MORNING_TICK % 10))
    for _ in range(60):
        assert not [c for c in step(sim, scheduled)[2] if c.action == "open"]
    sim.inject("payments", "error_storm")
    opened = []
    for waited in range(10):
        _, _, changes = step(sim, scheduled)
        opened += [(waited, c.episode.kind) for c in changes if c.action == "open"]
    assert opened == [(2, "alarm")]
    [episode] = scheduled.detection.state.open_episodes()
    assert {s["kind"] for s in episode.signals} >= {"alarm", "error_rate"}
    assert {d.last_tick for d in scheduled.detection.detectors.values()} == {sim.tick - 1}
