"""The phase timer behind the detector's and the generator's tick reports."""

from __future__ import annotations

import pytest

from healops.timing import PhaseTimer


def test_each_phase_is_stored_under_its_name_in_the_given_report() -> None:
    report: dict[str, float] = {}
    timer = PhaseTimer(report)
    with timer("read"):
        pass
    with timer("write"):
        pass
    assert timer.seconds is report and set(report) == {"read", "write"}
    assert all(seconds >= 0 for seconds in report.values())


def test_a_phase_that_raises_is_still_timed() -> None:
    timer = PhaseTimer()
    with pytest.raises(RuntimeError), timer("broken"):
        raise RuntimeError("the read failed")
    assert "broken" in timer.seconds


def test_seconds_are_rounded_to_the_digits_asked() -> None:
    timer = PhaseTimer(digits=1)
    with timer("quick"):
        pass
    assert timer.seconds["quick"] == round(timer.seconds["quick"], 1)
