"""One generator tick against moto: batched metrics, service logs, archives, benign deploys."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from healops.fleet.archive import HourlyArchive
from healops.fleet.clock import SimClock
from healops.fleet.generator import MetricsGenerator


@pytest.fixture
def at() -> datetime:
    """The start of the next hour (plus 30 s): the injector stamps faults with the current tick, so the
    generated ticks must run from now on, and ``now`` is when the test runs, not when it was collected."""
    return datetime.now(UTC).replace(minute=0, second=30, microsecond=0) + timedelta(hours=1)


def make_generator(aws_env, fleet, groups=("checkout", "payments")):
    for service in groups:
        aws_env["logs"].create_log_group(logGroupName=f"/healops/services/{service}")
    for bucket in ("metric-archive", "log-archive"):
        aws_env["s3"].create_bucket(Bucket=bucket)
    return MetricsGenerator(
        fleet=fleet,
        cloudwatch=aws_env["cloudwatch"],
        logs=aws_env["logs"],
        namespace="HealOps/Services",
        log_group_prefix="/healops/services",
        clock=SimClock(60.0, 1.0),
        seed=3,
        metric_archive=HourlyArchive(aws_env["s3"], "metric-archive", "metrics"),
        log_archive=HourlyArchive(aws_env["s3"], "log-archive", "logs"),
    )


def test_a_tick_puts_eight_metrics_per_service_and_logs_into_existing_groups(injector, repos, aws_env, at):
    fleet, _ = repos
    injector.inject("checkout", "error_storm", {"error_pct": 50}, 3 * 3600)
    report = make_generator(aws_env, fleet).run(at)
    assert report.services == 8 and report.datapoints == 64 and report.put_metric_calls == 1
    listed = aws_env["cloudwatch"].list_metrics(Namespace="HealOps/Services", MetricName="ErrorRate")["Metrics"]
    assert {m["Dimensions"][0]["Value"] for m in listed} >= {"checkout", "edge", "ledger-db"}
    # Only checkout and payments have log groups here; the others are counted, not fatal.
    assert report.as_dict()["log_groups_missing"] == 6
    events = aws_env["logs"].filter_log_events(logGroupName="/healops/services/checkout")["events"]
    lines = [json.loads(e["message"]) for e in events]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 12 and errors[0]["exception"]["stacktrace"].startswith("Traceback")
    assert all(line["service"] == "checkout" for line in lines)


def test_archives_are_gzip_json_lines_and_the_previous_hour_is_compacted_once(repos, injector, aws_env, at):
    hour = f"{at:%Y/%m/%d/%H}"
    fleet, _ = repos
    generator = make_generator(aws_env, fleet)
    for minute in range(3):
        generator.run(at + timedelta(minutes=minute))
    s3 = aws_env["s3"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="metric-archive")["Contents"]]
    first = SimClock(60.0, 1.0).tick_of(at)
    assert keys == [f"metrics/ticks/{hour}/{first + m:012d}.jsonl.gz" for m in range(3)]
    report = generator.run(at + timedelta(hours=1))
    assert f"metrics/hourly/{hour}.jsonl.gz" in report.archived
    body = s3.get_object(Bucket="metric-archive", Key=f"metrics/hourly/{hour}.jsonl.gz")["Body"].read()
    rows = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    assert len(rows) == 3 * 8 and {"service", "tick", "CPUUtilization", "ErrorRate"} <= set(rows[0])
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket="metric-archive")["Contents"]]
    assert not [k for k in remaining if f"/ticks/{hour}/" in k]
    assert f"metrics/hourly/{hour}.jsonl.gz" not in generator.run(at + timedelta(hours=1, minutes=1)).archived
    log_rows = s3.get_object(Bucket="log-archive", Key=f"logs/hourly/{hour}.jsonl.gz")["Body"].read()
    assert json.loads(gzip.decompress(log_rows).splitlines()[0])["service"]


def test_a_benign_deploy_changes_the_stored_version(repos, injector, aws_env, monkeypatch, at):
    fleet, _ = repos
    import healops.fleet.telemetry as telemetry

    monkeypatch.setattr(telemetry, "benign_deploy_at", lambda seed, service, tick: service == "search")
    report = make_generator(aws_env, fleet).run(at)
    assert report.deploys == ["search:v7.0.5"]
    state = fleet.get("search")
    assert (state.version, state.previous_version, state.last_action) == ("v7.0.5", "v7.0.4", "deploy")
