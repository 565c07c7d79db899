"""The alarm evaluator through real API calls: transitions, the EventBridge event, SNS actions.

The cloud runs with time_scale 20: a 60 s alarm period covers 3 real seconds of data.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from healops.local.cloudwatch import CloudWatchExtension
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from tests.conftest import make_client
from tests.helpers import wait_for

TIME_SCALE = 20.0


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("cw-alarms"), time_scale=TIME_SCALE)
    with EmbeddedCloud(ctx, extensions=[CloudWatchExtension()]) as cloud:
        yield cloud.endpoint_url


class Feeder:
    """Puts one datapoint every 0.2 s (real time) at the current time, with a settable value."""

    def __init__(self, client: Any, namespace: str, service: str) -> None:
        self.client = client
        self.namespace = namespace
        self.service = service
        self.value: float | None = 10.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            if self.value is None:
                continue
            self.client.put_metric_data(
                Namespace=self.namespace,
                MetricData=[
                    {
                        "MetricName": "CPU",
                        "Dimensions": [{"Name": "Service", "Value": self.service}],
                        "Value": self.value,
                        "Unit": "Percent",
                    }
                ],
            )

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _alarm(cloudwatch: Any, name: str) -> dict[str, Any]:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm


def _events_queue(endpoint: str, alarm_arn: str) -> str:
    """An SQS queue that an EventBridge pattern rule feeds with this alarm's state changes."""
    sqs = make_client(endpoint, "sqs")
    events = make_client(endpoint, "events")
    suffix = uuid.uuid4().hex[:8]
    queue_url = sqs.create_queue(QueueName=f"alarm-events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [alarm_arn],
    }
    events.put_rule(Name=f"alarm-changes-{suffix}", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"alarm-changes-{suffix}", Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


def _next_event(sqs: Any, queue_url: str) -> dict[str, Any]:
    def receive() -> Any:
        return sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages")

    (message,) = wait_for(receive, 20, "a message on the queue")
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return json.loads(message["Body"])


def test_ok_alarm_ok_with_events_history_and_sns_action(endpoint: str) -> None:
    cloudwatch = make_client(endpoint, "cloudwatch")
    sqs = make_client(endpoint, "sqs")
    sns = make_client(endpoint, "sns")
    suffix = uuid.uuid4().hex[:8]
    namespace, name, service = f"Test/{suffix}", f"cpu-high-{suffix}", f"svc-{suffix}"
    topic_arn = sns.create_topic(Name=f"alarms-{suffix}")["TopicArn"]
    sns_queue = sqs.create_queue(QueueName=f"alarm-sns-{suffix}")["QueueUrl"]
    sns_queue_arn = sqs.get_queue_attributes(QueueUrl=sns_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=sns_queue_arn)
    alarm_arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    events_queue = _events_queue(endpoint, alarm_arn)

    with Feeder(cloudwatch, namespace, service) as feeder:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription="CPU above 80% for 2 of 3 periods",
            Namespace=namespace,
            MetricName="CPU",
            Dimensions=[{"Name": "Service", "Value": service}],
            Statistic="Average",
            Period=60,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=80.0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[topic_arn],
        )
        assert _alarm(cloudwatch, name)["StateValue"] == "INSUFFICIENT_DATA"
        wait_for(lambda: _alarm(cloudwatch, name)["StateValue"] == "OK", 15, "OK on low values")
        first = _next_event(sqs, events_queue)
        assert first["detail"]["state"]["value"] == "OK"
        assert first["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"

        feeder.value = 95.0
        alarm = wait_for(
            lambda: (a := _alarm(cloudwatch, name))["StateValue"] == "ALARM" and a, 20, "ALARM on high values"
        )
        assert alarm["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints")
        reason_data = json.loads(alarm["StateReasonData"])
        assert reason_data["statistic"] == "Average" and reason_data["threshold"] == 80.0
        assert reason_data["period"] == 60

        event = _next_event(sqs, events_queue)
        assert event["source"] == "aws.cloudwatch"
        assert event["detail-type"] == "CloudWatch Alarm State Change"
        assert event["resources"] == [alarm_arn]
        detail = event["detail"]
        assert detail["alarmName"] == name
        assert detail["state"]["value"] == "ALARM" and detail["previousState"]["value"] == "OK"
        assert json.loads(detail["state"]["reasonData"])["threshold"] == 80.0
        assert detail["configuration"]["description"] == "CPU above 80% for 2 of 3 periods"
        (metric,) = detail["configuration"]["metrics"]
        assert metric["metricStat"]["metric"] == {
            "namespace": namespace,
            "name": "CPU",
            "dimensions": {"Service": service},
        }

        (sns_message,) = wait_for(
            lambda: sqs.receive_message(QueueUrl=sns_queue, WaitTimeSeconds=1).get("Messages"), 10, "SNS action"
        )
        notification = json.loads(json.loads(sns_message["Body"])["Message"])
        assert notification["AlarmName"] == name and notification["NewStateValue"] == "ALARM"
        assert notification["OldStateValue"] == "OK"

        feeder.value = 20.0
        wait_for(lambda: _alarm(cloudwatch, name)["StateValue"] == "OK", 20, "OK again")
        back = _next_event(sqs, events_queue)
        assert back["detail"]["previousState"]["value"] == "ALARM" and back["detail"]["state"]["value"] == "OK"
        assert "not greater than the threshold (80.0)" in back["detail"]["state"]["reason"]

    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [item["HistorySummary"] for item in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    actions = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
    assert actions and actions[0]["HistorySummary"] == f"Successfully executed action {topic_arn}"


def test_silence_under_each_treat_missing_data(endpoint: str) -> None:
    """Good data first (every alarm goes OK), then none at all: each mode ends where AWS's does."""
    cloudwatch = make_client(endpoint, "cloudwatch")
    suffix = uuid.uuid4().hex[:8]
    namespace, service = f"Test/{suffix}", f"svc-{suffix}"
    expected = {"missing": "INSUFFICIENT_DATA", "breaching": "ALARM", "notBreaching": "OK", "ignore": "OK"}
    names = {treat: f"silent-{treat}-{suffix}" for treat in expected}

    def states() -> dict[str, str]:
        alarms = cloudwatch.describe_alarms(AlarmNamePrefix="silent-")["MetricAlarms"]
        by_name = {alarm["AlarmName"]: alarm["StateValue"] for alarm in alarms}
        return {treat: by_name[name] for treat, name in names.items()}

    with Feeder(cloudwatch, namespace, service) as feeder:
        for treat, name in names.items():
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace=namespace,
                MetricName="CPU",
                Dimensions=[{"Name": "Service", "Value": service}],
                Statistic="Maximum",
                Period=60,
                EvaluationPeriods=2,
                Threshold=80.0,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData=treat,
            )
        wait_for(lambda: set(states().values()) == {"OK"}, 15, "OK while data flows")
        feeder.value = None
        wait_for(lambda: states() == expected, 15, f"{expected} on silence")
    time.sleep(60 / TIME_SCALE)  # another period of silence changes nothing
    assert states() == expected


def test_time_scale_sets_the_window_length(endpoint: str) -> None:
    cloudwatch = make_client(endpoint, "cloudwatch")
    suffix = uuid.uuid4().hex[:8]
    namespace, name, service = f"Test/{suffix}", f"scaled-{suffix}", f"svc-{suffix}"
    with Feeder(cloudwatch, namespace, service) as feeder:
        feeder.value = 99.0
        started = time.monotonic()
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace=namespace,
            MetricName="CPU",
            Dimensions=[{"Name": "Service", "Value": service}],
            Statistic="Average",
            Period=120,  # two simulated minutes: 6 real seconds at time_scale 20
            EvaluationPeriods=1,
            Threshold=50.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        alarm = wait_for(lambda: (a := _alarm(cloudwatch, name))["StateValue"] == "ALARM" and a, 40, "ALARM")
    assert time.monotonic() - started < 20, "a 120 s period must not take 120 real seconds"
    (point,) = json.loads(alarm["StateReasonData"])["evaluatedDatapoints"]
    window_start = datetime.strptime(point["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert window_start.timestamp() % (120 / TIME_SCALE) == 0
    assert datetime.now(UTC).timestamp() - window_start.timestamp() < 3 * 120 / TIME_SCALE


def test_set_alarm_state_emits_the_event_too(endpoint: str) -> None:
    cloudwatch = make_client(endpoint, "cloudwatch")
    sqs = make_client(endpoint, "sqs")
    suffix = uuid.uuid4().hex[:8]
    name = f"manual-{suffix}"
    queue = _events_queue(endpoint, f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace=f"Test/{suffix}",
        MetricName="CPU",
        Statistic="Average",
        Period=86400,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing the pager")
    event = _next_event(sqs, queue)
    assert event["detail"]["state"] == {
        "value": "ALARM",
        "reason": "testing the pager",
        "timestamp": event["detail"]["state"]["timestamp"],
    }
    assert _alarm(cloudwatch, name)["StateValue"] == "ALARM"
