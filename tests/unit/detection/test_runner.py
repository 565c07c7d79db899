"""The detector's run on moto: metrics and logs in, one incident (record, message, evidence, why) out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.detection.correlate import DependencyGraph
from healops.detection.runner import DetectorRunner, IncidentSink, alarm_signal
from healops.fleet.clock import SimClock
from healops.fleet.generator import metric_datums
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.detector_state import DetectorStateRepository
from healops.store.incidents import IncidentsRepository
from tests.unit.fleet.sim import Sim

NAMESPACE = "HealOps/Services"
CLOCK = SimClock(60.0, 1.0)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        c = {n: boto3.client(n, region_name="us-east-1") for n in ("dynamodb", "logs", "s3", "cloudwatch", "sqs")}
        create_tables(c["dynamodb"], ["incidents", "agent_decisions", "detector_state"])
        c["s3"].create_bucket(Bucket="artifacts")
        c["queue_url"] = c["sqs"].create_queue(QueueName="incidents")["QueueUrl"]
        yield c


def make_runner(c: dict[str, Any], sim: Sim) -> DetectorRunner:
    return DetectorRunner(
        cloudwatch=c["cloudwatch"],
        logs=c["logs"],
        states=DetectorStateRepository("detector_state", c["dynamodb"]),
        sink=IncidentSink(
            IncidentsRepository("incidents", c["dynamodb"]),
            AgentDecisionsRepository("agent_decisions", c["dynamodb"]),
            c["sqs"],
            c["queue_url"],
            c["s3"],
            "artifacts",
        ),
        graph=DependencyGraph({n: s.spec.depends_on for n, s in sim.states.items()}),
        clock=CLOCK,
        namespace=NAMESPACE,
        log_group_prefix="/healops/services",
        window_ticks=40,
    )


def ship(c: dict[str, Any], sim: Sim, ticks: int) -> datetime:
    """Write ``ticks`` ticks of the simulated fleet as the generator would; returns the next tick's time."""
    for _ in range(ticks):
        at = datetime.fromtimestamp(sim.tick * 60 + 1, UTC)
        fleet = list(sim.step().values())
        datums = metric_datums(fleet, at)
        for i in range(0, len(datums), 1000):
            c["cloudwatch"].put_metric_data(Namespace=NAMESPACE, MetricData=datums[i : i + 1000])
        for t in fleet:
            c["logs"].put_log_events(
                logGroupName=f"/healops/services/{t.service}",
                logStreamName="fleet",
                logEvents=[{"timestamp": int(at.timestamp() * 1000), "message": json.dumps(r)} for r in t.logs],
            )
    return datetime.fromtimestamp(sim.tick * 60 + 1, UTC)


@pytest.fixture
def fleet(aws: dict[str, Any]) -> Sim:
    # a recent tick: moto keeps metrics only for a limited past
    sim = Sim(size=8, seed=7, tick=CLOCK.tick_at(datetime.now(UTC).timestamp()) - 100)
    for name in sim.states:
        aws["logs"].create_log_group(logGroupName=f"/healops/services/{name}")
        aws["logs"].create_log_stream(logGroupName=f"/healops/services/{name}", logStreamName="fleet")
    return sim


def test_two_concurrent_runs_open_one_incident_with_its_message_evidence_and_why(
    aws: dict[str, Any], fleet: Sim
) -> None:
    at = ship(aws, fleet, 30)
    assert make_runner(aws, fleet).run_tick(at).changes == []
    fleet.inject("payments", "error_storm")
    at = ship(aws, fleet, 1)
    reports = []
    runs = [threading.Thread(target=lambda: reports.append(make_runner(aws, fleet).run_tick(at))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    created = [i for r in reports for i in r.created]
    assert len(created) == 1 and created[0].startswith("payments-errors-")
    record = IncidentsRepository("incidents", aws["dynamodb"]).get(created[0])
    assert record is not None and record.status == "open" and record.service == "payments"
    # MTTD runs from the start of the first anomalous tick to the opening, which comes after it.
    assert record.onset_at is not None and record.onset_at <= record.opened_at
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["incident_id"] for m in messages] == created
    evidence = json.loads(aws["s3"].get_object(Bucket="artifacts", Key=record.evidence_key)["Body"].read())
    assert evidence["root"] == "payments" and len(evidence["series"]["payments"]) >= 30
    steps, _ = AgentDecisionsRepository("agent_decisions", aws["dynamodb"]).for_incident(created[0])
    assert "error_rate" in steps[0].detail and "most upstream" in steps[1].detail


def test_an_alarm_in_alarm_joins_the_open_incident_of_its_service(aws: dict[str, Any], fleet: Sim) -> None:
    runner = make_runner(aws, fleet)
    runner.run_tick(ship(aws, fleet, 30))
    fleet.inject("checkout", "bad_deploy")
    at = ship(aws, fleet, 1)
    [opened] = runner.run_tick(at).created
    signal = alarm_signal("healops-checkout-error-rate", "Threshold Crossed", runner.graph.services, fleet.tick)
    assert signal is not None and signal.service == "checkout"
    assert alarm_signal("healops-unknown-error-rate", "", runner.graph.services, 1) is None
    report = runner.on_signals([signal], at)
    assert report.created == [] and report.changes == []
    assert IncidentsRepository("incidents", aws["dynamodb"]).get(opened) is not None


def test_a_reopened_incident_is_enqueued_as_a_new_episode(aws: dict[str, Any]) -> None:
    from healops.detection.correlate import Change, Episode

    sink = make_runner(aws, Sim(size=8, seed=7)).sink
    episode = Episode("auth-errors-1", "auth", "errors", "error_rate", start_tick=1, last_signal_tick=1)
    at = datetime.now(UTC)
    assert sink.apply(Change("open", episode), {}, at)
    sink.incidents.transition("auth-errors-1", "resolved")
    assert sink.apply(Change("reopen", episode), {}, at)
    assert sink.incidents.get("auth-errors-1").reopened == 1
    bodies = [
        json.loads(m["Body"])
        for m in aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)["Messages"]
    ]
    assert sorted(b["episode"] for b in bodies) == [0, 1]


def test_an_incident_written_but_never_sent_is_sent_by_the_outbox_sweep(aws: dict[str, Any], fleet: Sim) -> None:
    runner = make_runner(aws, fleet)
    runner.run_tick(ship(aws, fleet, 30))
    fleet.inject("payments", "error_storm")
    at = ship(aws, fleet, 1)
    real_sqs = runner.sink.sqs

    class Down:
        def send_message(self, **_: Any) -> None:
            raise ConnectionError("SQS is unreachable")

    runner.sink.sqs = Down()
    with pytest.raises(ConnectionError):
        runner.run_tick(at)  # the incident is written, its message is not
    incidents = IncidentsRepository("incidents", aws["dynamodb"])
    [pending] = incidents.unqueued(datetime.now(UTC).isoformat())
    assert pending.queued is False and pending.service == "payments"
    assert "Messages" not in aws["sqs"].receive_message(QueueUrl=aws["queue_url"])

    runner.sink.sqs = real_sqs
    # The retried run re-correlates the same episode; the incident exists, so the open is not repeated:
    # within the grace of two ticks the sweep leaves it alone (its writer may be about to send), after it sends.
    assert runner.run_tick(at).requeued == []
    runner.sink.flush_outbox(datetime.now(UTC))  # what the run does once the grace has passed
    [message] = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["incident_id"] == pending.incident_id
    assert incidents.get(pending.incident_id).queued is True
    assert incidents.unqueued(datetime.now(UTC).isoformat()) == []
