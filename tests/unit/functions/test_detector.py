from __future__ import annotations

import io
import json

import pytest

from tests.unit.functions.conftest import load_handler

detector = load_handler("detector")


@pytest.fixture
def log_lines():
    """The detector's structured log lines (its Powertools handler kept the stdout of import time)."""
    buffer = io.StringIO()
    previous = detector.logger.registered_handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    detector.logger.registered_handler.setStream(previous)


def test_alarm_state_change_is_logged_with_the_alarm_name_and_both_states(event, log_lines):
    summary = detector.handler(event("alarm_state_change"), None)

    assert summary["alarm_name"] == "healops-checkout-error-rate"
    assert (summary["old_state"], summary["new_state"]) == ("OK", "ALARM")
    assert summary["reason"].startswith("Threshold Crossed")
    [line] = [x for x in log_lines() if x["message"] == "alarm state change"]
    assert line["alarm_name"] == "healops-checkout-error-rate"
    assert line["new_state"] == "ALARM"


def test_scheduled_event_is_a_tick(event, log_lines):
    summary = detector.handler(event("scheduled_event"), None)

    assert summary == {"handled": "tick", "time": "2026-11-24T12:00:00+00:00"}
    assert any(x["message"] == "tick" for x in log_lines())


def test_other_events_are_refused_with_the_accepted_detail_types():
    with pytest.raises(detector.UnsupportedEventError, match=r"'EC2 Instance State-change'.*Scheduled Event"):
        detector.handler({"detail-type": "EC2 Instance State-change"}, None)


def test_alarm_event_without_a_state_fails_validation(event):
    broken = event("alarm_state_change")
    del broken["detail"]["state"]
    with pytest.raises(Exception, match="state"):
        detector.handler(broken, None)
