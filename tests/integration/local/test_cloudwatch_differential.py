"""The indexed metric store answers as plain moto does, for the same random data.

Plain moto runs as its own server process (nothing of Heal-Ops imported there); the extended
one is an EmbeddedCloud with only the CloudWatch extension. The same PutMetricData calls go to
both, then a range of GetMetricData, GetMetricStatistics and ListMetrics requests, whose answers
must match (values to 1e-9 relative: the store sums in time order, moto in arrival order).
ListMetrics is compared as a set, since moto repeats a metric once per datapoint.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from healops.local.cloudwatch import CloudWatchExtension
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from tests.conftest import make_client

UNITS = {"CPU": "Percent", "Latency": "Milliseconds", "Errors": "Count"}
SERVICES = ("checkout", "payments", "search")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def plain_moto_url() -> Any:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("plain moto server did not start within 30 s")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def extended_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("cw"))
    with EmbeddedCloud(ctx, extensions=[CloudWatchExtension()]) as cloud:
        yield cloud.endpoint_url


def _random_members(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    for _ in range(600):
        name = rng.choice([*UNITS, "Mixed"])
        shape = rng.random()
        if shape < 0.6:
            dimensions = [{"Name": "Service", "Value": rng.choice(SERVICES)}]
        elif shape < 0.85:
            # Two dimensions, always in the same order (moto's comparison depends on it).
            dimensions = [
                {"Name": "Service", "Value": rng.choice(SERVICES)},
                {"Name": "Env", "Value": rng.choice(("prod", "stage"))},
            ]
        else:
            dimensions = []
        member: dict[str, Any] = {
            "MetricName": name,
            "Dimensions": dimensions,
            "Timestamp": now - timedelta(seconds=rng.randint(1, 50 * 60), milliseconds=rng.randint(0, 999)),
        }
        if name == "Mixed":
            member["Unit"] = rng.choice(("Bytes", "Kilobytes"))
        else:
            member["Unit"] = UNITS[name]
        kind = rng.random()
        if kind < 0.7:
            member["Value"] = round(rng.uniform(-50, 500), 3)
        elif kind < 0.85:
            values = [round(rng.uniform(0, 100), 2) for _ in range(rng.randint(1, 5))]
            member["Values"] = values
            member["Counts"] = [float(rng.randint(1, 3)) for _ in values]
        else:
            low = rng.uniform(0, 50)
            member["StatisticValues"] = {
                "SampleCount": float(rng.randint(1, 20)),
                "Sum": round(rng.uniform(100, 1000), 2),
                "Minimum": round(low, 2),
                "Maximum": round(low + rng.uniform(0, 100), 2),
            }
        members.append(member)
    # Mixed-unit points at distinct seconds, so "the unit of the latest point" is unambiguous.
    for member in members:
        if member["MetricName"] == "Mixed":
            member["Timestamp"] = member["Timestamp"].replace(microsecond=0)
    seen: set[datetime] = set()
    unique = []
    for member in members:
        if member["MetricName"] == "Mixed":
            if member["Timestamp"] in seen:
                continue
            seen.add(member["Timestamp"])
        unique.append(member)
    return unique


@pytest.fixture(scope="module")
def loaded(plain_moto_url: str, extended_url: str) -> dict[str, Any]:
    rng = random.Random(20240611)
    namespace = f"Diff/{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)
    members = _random_members(rng, now)
    clients = {url: make_client(url, "cloudwatch") for url in (plain_moto_url, extended_url)}
    for client in clients.values():
        for start in range(0, len(members), 150):
            client.put_metric_data(Namespace=namespace, MetricData=members[start : start + 150])
    return {"namespace": namespace, "now": now, "moto": clients[plain_moto_url], "ours": clients[extended_url]}


def _assert_same_results(theirs: list[dict[str, Any]], ours: list[dict[str, Any]]) -> None:
    assert [r["Id"] for r in ours] == [r["Id"] for r in theirs]
    for mine, expected in zip(ours, theirs, strict=True):
        assert mine["Label"] == expected["Label"]
        assert mine["Timestamps"] == expected["Timestamps"], mine["Id"]
        assert mine["Values"] == pytest.approx(expected["Values"], rel=1e-9), mine["Id"]


def _metric_stat_queries(namespace: str, rng: random.Random) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    dimension_choices: list[list[dict[str, str]]] = [
        [],
        [{"Name": "Service", "Value": "checkout"}],
        [{"Name": "Service", "Value": "search"}],
        [{"Name": "Service", "Value": "payments"}, {"Name": "Env", "Value": "prod"}],
    ]
    for stat in ("Average", "Sum", "Minimum", "Maximum", "SampleCount"):
        for period in (60, 300, 37):
            batch = []
            for index, name in enumerate([*UNITS, "Mixed"]):
                dimensions = rng.choice(dimension_choices)
                metric_stat: dict[str, Any] = {
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
                    "Period": period,
                    "Stat": stat,
                }
                if name == "Mixed" and rng.random() < 0.5:
                    metric_stat["Unit"] = "Bytes"
                query: dict[str, Any] = {"Id": f"m{index}", "MetricStat": metric_stat}
                if index == 1:
                    query["Label"] = "custom label"
                batch.append(query)
            batch[2]["ReturnData"] = False
            batch.append({"Id": "e1", "Expression": "m2"})
            batches.append(batch)
    return batches


def test_get_metric_data_matches_plain_moto(loaded: dict[str, Any]) -> None:
    rng = random.Random(7)
    now = loaded["now"]
    for batch in _metric_stat_queries(loaded["namespace"], rng):
        for scan_by in ("TimestampAscending", "TimestampDescending"):
            # Unaligned start times: moto's periods start at StartTime, and so must ours.
            start = now - timedelta(minutes=rng.randint(5, 55), seconds=rng.randint(0, 59))
            end = now + timedelta(seconds=rng.randint(0, 120))
            request = {"MetricDataQueries": batch, "StartTime": start, "EndTime": end, "ScanBy": scan_by}
            theirs = loaded["moto"].get_metric_data(**request)["MetricDataResults"]
            ours = loaded["ours"].get_metric_data(**request)["MetricDataResults"]
            assert any(result["Values"] for result in theirs), "the data should fall in the window"
            _assert_same_results(theirs, ours)


def test_get_metric_statistics_matches_plain_moto(loaded: dict[str, Any]) -> None:
    rng = random.Random(11)
    now = loaded["now"]
    dimension_choices: list[list[dict[str, str]]] = [
        [],
        [{"Name": "Service", "Value": "checkout"}],
        [{"Name": "Env", "Value": "stage"}],
        [{"Name": "Service", "Value": "payments"}, {"Name": "Env", "Value": "prod"}],
    ]
    compared = 0
    for name in [*UNITS, "Mixed"]:
        for period in (60, 120, 300, 3600):
            for dimensions in dimension_choices:
                request: dict[str, Any] = {
                    "Namespace": loaded["namespace"],
                    "MetricName": name,
                    "StartTime": now - timedelta(minutes=rng.randint(10, 60)),
                    "EndTime": now + timedelta(minutes=1),
                    "Period": period,
                    "Statistics": ["Average", "Sum", "Minimum", "Maximum", "SampleCount"],
                    "Dimensions": dimensions,
                }
                if name == "Mixed" and period == 120:
                    request["Unit"] = "Kilobytes"
                theirs = loaded["moto"].get_metric_statistics(**request)["Datapoints"]
                ours = loaded["ours"].get_metric_statistics(**request)["Datapoints"]
                assert len(ours) == len(theirs), request
                for mine, expected in zip(ours, theirs, strict=True):
                    assert mine.keys() == expected.keys()
                    assert mine["Timestamp"] == expected["Timestamp"]
                    assert mine.get("Unit") == expected.get("Unit")
                    for stat in ("Average", "Sum", "Minimum", "Maximum", "SampleCount"):
                        assert mine[stat] == pytest.approx(expected[stat], rel=1e-9)
                compared += len(theirs)
    assert compared > 50


def _metric_set(metrics: list[dict[str, Any]]) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    return {
        (m["Namespace"], m["MetricName"], frozenset((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
        for m in metrics
    }


def _all_pages(client: Any, **request: Any) -> list[dict[str, Any]]:
    metrics: list[dict[str, Any]] = []
    while True:
        page = client.list_metrics(**request)
        metrics.extend(page["Metrics"])
        if not page.get("NextToken"):
            return metrics
        request["NextToken"] = page["NextToken"]


def test_list_metrics_matches_plain_moto(loaded: dict[str, Any]) -> None:
    namespace = loaded["namespace"]
    requests: list[dict[str, Any]] = [
        {"Namespace": namespace},
        {"Namespace": namespace, "MetricName": "CPU"},
        {"Namespace": namespace, "Dimensions": [{"Name": "Env"}]},
        {"Namespace": namespace, "Dimensions": [{"Name": "Service", "Value": "search"}]},
        {"Namespace": namespace, "MetricName": "Latency", "Dimensions": [{"Name": "Env", "Value": "prod"}]},
    ]
    for request in requests:
        theirs = _metric_set(_all_pages(loaded["moto"], **request))
        ours_listed = _all_pages(loaded["ours"], **request)
        assert theirs, request
        assert _metric_set(ours_listed) == theirs, request
        assert len(ours_listed) == len(theirs), "each metric listed once"


def test_parallel_puts_and_reads_over_http(extended_url: str) -> None:
    """Concurrency smoke: writers and readers at once; every point is counted and percentiles come back."""
    namespace = f"Parallel/{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        client = make_client(extended_url, "cloudwatch")
        try:
            for batch in range(10):
                client.put_metric_data(
                    Namespace=namespace,
                    MetricData=[
                        {
                            "MetricName": "Latency",
                            "Timestamp": now - timedelta(seconds=1 + (worker * 1000 + batch * 100 + i) % 1800),
                            "Value": float(i + 1),
                        }
                        for i in range(100)
                    ],
                )
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        client = make_client(extended_url, "cloudwatch")
        try:
            for _ in range(10):
                client.get_metric_statistics(
                    Namespace=namespace,
                    MetricName="Latency",
                    StartTime=now - timedelta(hours=1),
                    EndTime=now,
                    Period=3600,
                    Statistics=["SampleCount"],
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    client = make_client(extended_url, "cloudwatch")
    (datapoint,) = client.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(seconds=1),
        Period=7200,
        Statistics=["SampleCount", "Maximum"],
        ExtendedStatistics=["p50", "p99"],
    )["Datapoints"]
    assert datapoint["SampleCount"] == 4000.0 and datapoint["Maximum"] == 100.0
    assert datapoint["ExtendedStatistics"] == {"p50": 50.0, "p99": 99.0}
    (result,) = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "p90",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": "Latency"},
                    "Period": 7200,
                    "Stat": "p90",
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(seconds=1),
    )["MetricDataResults"]
    assert result["Values"] == [90.0]
