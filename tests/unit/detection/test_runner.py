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

from healops.cost import Workload, calls_per_read, estimate, metrics_per_read
from healops.deploy.tables import create_tables
from healops.detection.correlate import DependencyGraph
from healops.detection.logs import fingerprint
from healops.detection.runner import DetectorRunner, IncidentSink, alarm_signal
from healops.detection.schedule import ReadSchedule
from healops.fleet.clock import SimClock
from healops.fleet.generator import metric_datums
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.detector_state import DetectorStateRepository
from healops.store.incidents import IncidentsRepository
from tests.helpers import use_moto_credentials
from tests.unit.fleet.sim import Sim

NAMESPACE = "HealOps/Services"
CLOCK = SimClock(60.0, 1.0)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    use_moto_credentials(monkeypatch)
    with mock_aws():
        c = {n: boto3.client(n, region_name="us-east-1") for n in ("dynamodb", "logs", "s3", "cloudwatch", "sqs")}
        create_tables(c["dynamodb"], ["incidents", "agent_decisions", "detector_state"])
        c["s3"].create_bucket(Bucket="artifacts")
        c["queue_url"] = c["sqs"].create_queue(QueueName="incidents")["QueueUrl"]
        yield c


def make_runner(c: dict[str, Any], sim: Sim, log_reads_per_run: int | None = None) -> DetectorRunner:
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
        log_reads_per_run=log_reads_per_run,
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
    # A recent tick (moto keeps metrics and log events only for a limited past): 09:00 UTC two days ago, so every run
    # simulates the same time of day (every whole hour passed when checked). The noise is the date's: a test counts
    # on no particular tick for a fault to show.
    day = CLOCK.ticks_for(86400)
    start = (CLOCK.tick_at(datetime.now(UTC).timestamp()) - 2 * day) // day * day + CLOCK.ticks_for(9 * 3600)
    sim = Sim(size=8, seed=7, tick=start)
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


def test_a_caller_s_alarm_handled_before_its_dependency_s_leaves_one_incident_rooted_at_the_dependency(
    aws: dict[str, Any], fleet: Sim
) -> None:
    # Issue 25: a crash of search raises edge's error-rate alarm at the same tick; the fast path handles each alarm
    # alone, edge's first. Edge's incident is opened, then merged into search's when search's alarm arrives.
    runner = make_runner(aws, fleet)
    at = ship(aws, fleet, 3)
    caller, dependency = (
        alarm_signal(f"healops-{s}-error-rate", "Threshold Crossed", runner.graph.services, fleet.tick)
        for s in ("edge", "search")
    )
    assert caller is not None and dependency is not None
    [edge_incident] = runner.on_signals([caller], at).created
    report = runner.on_signals([dependency], at)
    [search_incident] = report.created
    assert report.changes == [f"open:{search_incident}", f"link:{search_incident}", f"merge:{edge_incident}"]
    incidents = IncidentsRepository("incidents", aws["dynamodb"])
    merged, root = incidents.get(edge_incident), incidents.get(search_incident)
    assert merged is not None and merged.status == "resolved" and merged.merged_into == search_incident
    assert root is not None and root.status == "open" and root.service == "search" and root.linked_services == ["edge"]
    steps, _ = AgentDecisionsRepository("agent_decisions", aws["dynamodb"]).for_incident(edge_incident)
    assert steps[-1].title.startswith(f"Merged into {search_incident}") and "edge calls search" in steps[-1].detail
    # Handled again (a retried event), nothing changes.
    assert runner.on_signals([dependency], at).changes == []


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


def test_an_incident_a_remediation_resolved_while_the_fault_went_on_is_reopened_and_queued_again(
    aws: dict[str, Any], fleet: Sim
) -> None:
    from healops.detection.correlate import CorrelationState
    from healops.detection.runner import CORRELATION_KEY

    runner = make_runner(aws, fleet)
    runner.run_tick(ship(aws, fleet, 30))
    fleet.inject("search", "memory_leak", leak_mb_per_tick=120.0)
    # The tick the leak is seen on depends on the day's noise, and the fleet's day is the run's (two days ago):
    # 7 to 9 ticks on the days tried. Opened before the heap reaches search's limit (2,600 + 120 a tick of 4,096 MB:
    # the 13th tick), as one incident.
    runs = [runner.run_tick(ship(aws, fleet, 1)) for _ in range(8)]
    while not any(r.created for r in runs) and len(runs) < 12:
        runs.append(runner.run_tick(ship(aws, fleet, 1)))
    opened = [i for r in runs for i in r.created]
    assert len(opened) == 1, [r.changes for r in runs]
    assert runner.sink.remediated(opened) == []  # open: still the detector's
    runner.sink.incidents.transition(opened[0], "remediating")
    runner.sink.incidents.transition(opened[0], "resolved")
    assert runner.sink.remediated([*opened, "no-such-incident"]) == opened
    # The leak never stopped: the next run hands the episode back and reopens it on the leak's next signal (the next
    # tick's, or the one after on some days), and nothing else happens meanwhile.
    runs = [runner.run_tick(ship(aws, fleet, 1))]
    while not runs[-1].changes and len(runs) < 3:
        runs.append(runner.run_tick(ship(aws, fleet, 1)))
    assert [r.changes for r in runs][-1] == [f"reopen:{opened[0]}"] and not any(r.changes for r in runs[:-1])
    state = CorrelationState.from_state(runner.states.get_versioned(CORRELATION_KEY)[0])
    assert state.episodes[opened[0]].status == "open" and state.episodes[opened[0]].reopened == 1
    record = runner.sink.incidents.get(opened[0])
    assert record is not None and record.status == "open" and record.reopened == 1
    steps, _ = AgentDecisionsRepository("agent_decisions", aws["dynamodb"]).for_incident(opened[0])
    assert any("did not hold" in step.detail for step in steps)
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


def log_cursors(c: dict[str, Any], sim: Sim) -> dict[str, int | None]:
    """Each service's log cursor (the last tick whose logs its detector observed), from the saved states."""
    saved = DetectorStateRepository("detector_state", c["dynamodb"]).get_many([f"service#{s}" for s in sim.states])
    return {key.removeprefix("service#"): state["log_tick"] for key, (state, _) in saved.items()}


def test_with_a_log_read_bound_each_service_is_read_in_turn_and_a_late_line_is_still_learned(
    aws: dict[str, Any], fleet: Sim
) -> None:
    runner = make_runner(aws, fleet, log_reads_per_run=3)
    report = runner.run_tick(ship(aws, fleet, 30))
    assert report.reads.log_services == 3 and report.reads.filter_log_events_calls <= 3 * 2
    cursors = log_cursors(aws, fleet)
    read = {s for s, t in cursors.items() if t == fleet.tick - 1}
    assert len(read) == 3 and all(t is not None for t in cursors.values())  # the others are owed their logs
    # A line only the logs carry, on a service whose logs this run did not read.
    quiet = sorted(set(cursors) - read)[-1]
    line_tick = fleet.tick
    at = ship(aws, fleet, 1)
    record = {"level": "ERROR", "message": "boom", "exception": {"type": "QuuxError", "message": "never seen"}}
    aws["logs"].put_log_events(
        logGroupName=f"/healops/services/{quiet}",
        logStreamName="fleet",
        logEvents=[{"timestamp": int((line_tick * 60 + 30) * 1000), "message": json.dumps(record)}],
    )
    seen = set()
    # 8 services, 3 a run: within three runs when none is urgent; a service whose metrics are off their normal
    # (the fleet's noise and benign bursts depend on the hour the test runs) may take a slot in every run
    for _ in range(8):
        report = runner.run_tick(at)
        assert report.reads.log_services == 3
        seen |= {s for s, t in log_cursors(aws, fleet).items() if t == fleet.tick - 1}
        at = ship(aws, fleet, 1)
        if seen == set(fleet.states):
            break
    assert seen == set(fleet.states)
    saved, _ = DetectorStateRepository("detector_state", aws["dynamodb"]).get_many([f"service#{quiet}"])[
        f"service#{quiet}"
    ]
    assert fingerprint("ERROR QuuxError: never seen") in saved["signatures"]["signatures"]


def test_a_service_whose_metrics_leave_their_normal_has_its_logs_read_first(aws: dict[str, Any], fleet: Sim) -> None:
    runner = make_runner(aws, fleet, log_reads_per_run=1)
    runner.run_tick(ship(aws, fleet, 30))
    fleet.inject("payments", "error_storm")
    at = ship(aws, fleet, 1)
    report = runner.run_tick(at)
    assert report.reads.log_services == 1
    assert log_cursors(aws, fleet)["payments"] == fleet.tick - 1  # read although others were further behind
    assert [i for i in report.created if i.startswith("payments-")]


def test_a_read_cut_short_by_the_page_bound_resumes_where_it_stopped(
    aws: dict[str, Any], fleet: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    from healops.detection import sources

    # every tick has a few lines; with pages of 5 lines, two pages a read, a read covers a few ticks at most
    monkeypatch.setattr(sources, "LOG_EVENTS_PER_PAGE", 5)
    runner = make_runner(aws, fleet)
    first = fleet.tick
    runner.run_tick(ship(aws, fleet, 30))
    stopped = log_cursors(aws, fleet)["payments"]
    assert stopped is not None and first <= stopped < first + 10
    runner.run_tick(ship(aws, fleet, 1))
    resumed = log_cursors(aws, fleet)["payments"]
    assert stopped < resumed < first + 20  # read on from where it stopped, not from the new tick


def test_a_throttled_log_read_leaves_the_logs_for_a_later_run_and_the_run_goes_on(
    aws: dict[str, Any], fleet: Sim
) -> None:
    from botocore.exceptions import ClientError

    real_logs = aws["logs"]

    class Throttled:
        """FilterLogEvents refused for one log group, as AWS does past its per-account rate."""

        exceptions = real_logs.exceptions

        def filter_log_events(self, **kwargs: Any) -> Any:
            if kwargs["logGroupName"].endswith("/payments"):
                error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
                raise ClientError(error, "FilterLogEvents")
            return real_logs.filter_log_events(**kwargs)

    runner = make_runner(aws, fleet)
    runner.logs = Throttled()
    report = runner.run_tick(ship(aws, fleet, 30))
    assert report.reads.log_read_failures == ["payments"] and report.reads.log_services == 8
    cursors = log_cursors(aws, fleet)
    assert cursors["auth"] == fleet.tick - 1 and cursors["payments"] < fleet.tick - 20  # owed, not skipped
    runner.logs = real_logs
    report = runner.run_tick(ship(aws, fleet, 1))
    assert report.reads.log_read_failures == [] and log_cursors(aws, fleet)["payments"] == fleet.tick - 1


def test_the_log_schedule_reads_the_urgent_first_then_the_furthest_behind() -> None:
    from healops.detection.engine import FleetDetection

    # No AWS here, so a fixed simulated morning: from the wall clock, a benign burst at some times of day made
    # a second service urgent too (it failed a CI run).
    fleet = Sim(size=8, seed=7)

    runner = DetectorRunner(
        cloudwatch=None,
        logs=None,
        states=None,  # type: ignore[arg-type]
        sink=None,  # type: ignore[arg-type]
        graph=DependencyGraph({n: s.spec.depends_on for n, s in fleet.states.items()}),
        clock=CLOCK,
        namespace=NAMESPACE,
        log_group_prefix="/healops/services",
        log_reads_per_run=3,
    )
    detection = FleetDetection(runner.graph)
    warm = {n: t.metrics for n, t in fleet.step().items()}
    for _ in range(20):
        for name, t in fleet.step().items():
            detection.detector(name).observe(t.tick, t.metrics, t.logs)
    behind = {name: fleet.tick - 1 for name in fleet.states} | {"search": fleet.tick - 9, "auth": fleet.tick - 5}
    off = dict(warm["edge"], ErrorRate=60.0)  # edge's error rate far off its normal
    metrics = {name: {fleet.tick: off if name == "edge" else warm[name]} for name in fleet.states}
    assert runner._log_schedule(detection, metrics, behind, fleet.tick) == ["edge", "search", "auth"]
    assert len(runner._log_schedule(detection, metrics, behind, fleet.tick)) == 3
    runner.log_reads_per_run = None
    assert sorted(runner._log_schedule(detection, metrics, behind, fleet.tick)) == sorted(fleet.states)
    with pytest.raises(ValueError, match="log_reads_per_run must be at least 1"):
        DetectorRunner(**{**runner.__dict__, "log_reads_per_run": 0})


def test_a_secret_quoted_in_a_signal_reaches_no_table_message_or_evidence(aws: dict[str, Any]) -> None:
    from healops.detection.correlate import Change, Episode

    # a new exception signature quotes the log line, and a log line may carry a credential
    secret_key, password_url = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "postgres://app:hunter2pass@db:5432/x"
    detail = f"new exception: ConnectionError {password_url} aws_secret_access_key={secret_key}"
    sink = make_runner(aws, Sim(size=8, seed=7)).sink
    episode = Episode("auth-errors-2", "auth", "errors", "error_rate", start_tick=1, last_signal_tick=1)
    episode.signals = [{"kind": "new_signature", "detail": detail, "score": 1.0, "strong": True}]
    assert sink.apply(Change("open", episode), {"signals": episode.signals}, datetime.now(UTC))

    message = aws["sqs"].receive_message(QueueUrl=aws["queue_url"])["Messages"][0]["Body"]
    evidence_key = sink.incidents.get("auth-errors-2").evidence_key
    evidence = aws["s3"].get_object(Bucket="artifacts", Key=evidence_key)["Body"].read().decode()
    stored = json.dumps(aws["dynamodb"].scan(TableName="incidents")["Items"])
    for where, text in (("queue message", message), ("evidence", evidence), ("incidents table", stored)):
        assert "ConnectionError" in text, where  # what is not a secret stays readable
        assert secret_key not in text and "hunter2pass" not in text, f"a secret reached the {where}"


def test_an_escalated_incident_whose_service_went_quiet_is_resolved_and_its_people_told(aws: dict[str, Any]) -> None:
    from healops.detection.correlate import Change, Episode
    from healops.notify import Notification

    sink = make_runner(aws, Sim(size=8, seed=7)).sink
    heard: list[Notification] = []
    sink.announce = heard.append
    at = datetime.now(UTC)
    for incident_id, service, status in (("auth-errors-1", "auth", "escalated"), ("edge-errors-1", "edge", "open")):
        episode = Episode(incident_id, service, "errors", "error_rate", start_tick=1, last_signal_tick=1)
        assert sink.apply(Change("open", episode), {}, at)
        if status == "escalated":
            sink.incidents.transition(incident_id, "escalated")
        sink.apply(Change("resolve", episode, reasons=[f"{service} quiet for 5 ticks"]), {}, at)
        assert sink.incidents.get(incident_id).status == "resolved"
    # Only the escalated one had been handed to people (the open one resolved before anyone was told of it).
    [told] = heard
    assert (told.event, told.incident_id, told.service) == ("resolved", "auth-errors-1", "auth")
    assert "auth quiet for 5 ticks" in told.summary


def count_calls(*clients: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every API call the clients make from now on: (operation, parameters), as botocore sends them."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for client in clients:
        client.meta.events.register(
            "provide-client-params.*.*", lambda params, model, **_: calls.append((model.name, dict(params)))
        )
    return calls


def test_the_detector_reads_every_tenth_tick_and_the_cost_model_counts_its_calls(
    aws: dict[str, Any], fleet: Sim
) -> None:
    runner = make_runner(aws, fleet)
    runner.schedule = ReadSchedule(10)
    at = ship(aws, fleet, 30)
    while not runner.schedule.due(CLOCK.tick_of(at)):
        at = ship(aws, fleet, 1)
    assert runner.run_tick(at).read  # learns the window
    calls = count_calls(*(aws[n] for n in ("cloudwatch", "logs", "dynamodb", "sqs", "s3")))
    fleet.inject("payments", "network_latency")  # no alarm watches latency: the reads alone find it
    reports = []
    for _ in range(20):
        at = ship(aws, fleet, 1)
        reports.append(runner.run_tick(at))
    read = [r for r in reports if r.read]
    assert len(read) == 2 and all(r.ticks_processed == 10 for r in read)
    assert all(r.reads.get_metric_data_calls == 0 and r.state_calls == 0 for r in reports if not r.read)
    opened = [i for r in reports for i in r.created]
    assert len(opened) == 1 and opened[0].startswith("payments-latency-")
    assert read[0].created == opened  # at the first read after the fault
    # what the detector asked CloudWatch for is what the cost model counts: per read, 8 metrics a service, in
    # calls of up to 500 queries; plus each opened incident's evidence (8 metrics of each service in it)
    record = IncidentsRepository("incidents", aws["dynamodb"]).get(opened[0])
    assert record is not None and record.onset_at is not None and record.onset_at < record.opened_at
    workload = Workload(services=len(fleet.states), read_every_ticks=10)
    metric_reads = [p for name, p in calls if name == "GetMetricData"]
    evidence = workload.metrics_per_service * (1 + len(record.linked_services))
    assert sum(len(p["MetricDataQueries"]) for p in metric_reads) == 2 * metrics_per_read(workload) + evidence
    assert len(metric_reads) == 2 * calls_per_read(workload) + len(opened)
    reads_per_month = estimate(workload).lines[0].quantity / metrics_per_read(workload)
    assert reads_per_month == 30 * 24 * 60 / 10
