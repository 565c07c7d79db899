from __future__ import annotations

import io
import json

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.redaction import MASK
from tests.unit.functions.conftest import load_handler

detector = load_handler("detector")


@pytest.fixture(autouse=True)
def stack(monkeypatch):
    """The tables, queue and bucket the detector writes to, on moto, named in its environment."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, ["incidents", "agent_decisions", "detector_state"])
        queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="incidents")["QueueUrl"]
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="artifacts")
        for name, value in {
            "HEALOPS_INCIDENTS_TABLE": "incidents",
            "HEALOPS_AGENT_DECISIONS_TABLE": "agent_decisions",
            "HEALOPS_DETECTOR_STATE_TABLE": "detector_state",
            "HEALOPS_INCIDENTS_QUEUE_URL": queue,
            "HEALOPS_ARTIFACTS_BUCKET": "artifacts",
        }.items():
            monkeypatch.setenv(name, value)
        detector.runner.cache_clear()
        yield
        detector.runner.cache_clear()


@pytest.fixture
def log_lines():
    """The detector's structured log lines (its Powertools handler kept the stdout of import time)."""
    buffer = io.StringIO()
    previous = detector.logger.registered_handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    detector.logger.registered_handler.setStream(previous)


def test_alarm_state_change_is_logged_with_the_alarm_name_and_both_states(event, log_lines):
    summary = detector.handler(event("alarm_state_change"), None)

    assert summary["incidents"][0].startswith("open:checkout-errors-")
    assert summary["alarm_name"] == "healops-checkout-error-rate"
    assert (summary["old_state"], summary["new_state"]) == ("OK", "ALARM")
    assert summary["reason"].startswith("Threshold Crossed")
    [line] = [x for x in log_lines() if x["message"] == "alarm state change"]
    assert line["alarm_name"] == "healops-checkout-error-rate"
    assert line["new_state"] == "ALARM"


def test_an_alarm_reason_carrying_a_secret_is_masked_in_the_answer_and_the_log(event, log_lines):
    secret = "ghp_" + "Zq8" * 12  # a GitHub token's shape
    alarm = event("alarm_state_change")
    alarm["detail"]["state"]["reason"] = f"Threshold Crossed: token={secret}"

    summary = detector.handler(alarm, None)

    assert summary["reason"].startswith("Threshold Crossed") and MASK in summary["reason"]
    assert secret not in json.dumps(summary)
    assert secret not in json.dumps(log_lines())


def test_scheduled_event_is_a_tick(event, log_lines):
    summary = detector.handler(event("scheduled_event"), None)

    assert (summary["handled"], summary["time"]) == ("tick", "2026-11-24T12:00:00+00:00")
    assert summary["services"] == 8 and summary["reads"]["get_metric_data_calls"] == 1
    assert any(x["message"] == "tick" for x in log_lines())


def test_other_events_are_refused_with_the_accepted_detail_types():
    with pytest.raises(detector.UnsupportedEventError, match=r"'EC2 Instance State-change'.*Scheduled Event"):
        detector.handler({"detail-type": "EC2 Instance State-change"}, None)


def test_alarm_event_without_a_state_fails_validation(event):
    broken = event("alarm_state_change")
    del broken["detail"]["state"]
    with pytest.raises(Exception, match="state"):
        detector.handler(broken, None)
