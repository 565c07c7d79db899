"""ECS services on a running embedded cloud, through boto3: deployments that roll out and finish, running
counts that follow desired counts over simulated time, and scalable targets that hold the desired count.

One rollout step is 30 simulated seconds; at time scale 30 that is a second of real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from healops.deploy.processes import server_process, start_server
from healops.local.context import EmbeddedContext
from healops.local.ecs import ServiceDeployments
from healops.local.server import EmbeddedCloud, free_port
from tests.conftest import make_client

# Generous: the machine is shared and loaded; a rollout needs two steps (2 s of real time).
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("ecs"), time_scale=30.0)
    with EmbeddedCloud(ctx, extensions=[ServiceDeployments()]) as running:
        yield running


@pytest.fixture(scope="module")
def ecs(cloud: EmbeddedCloud) -> Any:
    client = make_client(cloud.endpoint_url, "ecs")
    client.create_cluster(clusterName="prod")
    for memory in (512, 1024, 2048):
        client.register_task_definition(
            family="web", containerDefinitions=[{"name": "app", "image": "nginx", "memory": memory}]
        )
    return client


@pytest.fixture
def service(ecs: Any, request: pytest.FixtureRequest) -> str:
    name = request.node.name[-32:].replace("[", "-").replace("]", "")
    ecs.create_service(cluster="prod", serviceName=name, taskDefinition="web:1", desiredCount=2)
    return name


def _describe(ecs: Any, name: str, cluster: str = "prod") -> dict[str, Any]:
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def _wait_for(ecs: Any, name: str, done: Callable[[dict[str, Any]], bool], cluster: str = "prod") -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = _describe(ecs, name, cluster)
        if done(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"service {name} did not get there in {DEADLINE_S} s: {found['deployments']}")
        time.sleep(0.1)


def _settled(found: dict[str, Any]) -> bool:
    deployments = found["deployments"]
    return len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED"


def test_a_new_service_rolls_out_and_reaches_a_steady_state(ecs: Any, service: str) -> None:
    first = _describe(ecs, service)
    assert first["deployments"][0]["rolloutState"] == "IN_PROGRESS" and first["runningCount"] == 0
    settled = _wait_for(ecs, service, _settled)
    assert (settled["runningCount"], settled["pendingCount"], settled["desiredCount"]) == (2, 0, 2)
    assert settled["deploymentConfiguration"]["maximumPercent"] == 200
    assert "has reached a steady state." in settled["events"][0]["message"]


def test_a_new_task_definition_replaces_the_old_deployment(ecs: Any, service: str) -> None:
    _wait_for(ecs, service, _settled)
    before = _describe(ecs, service)["deployments"][0]
    ecs.update_service(cluster="prod", service=service, taskDefinition="web:3")
    started = _describe(ecs, service)
    assert started["taskDefinition"].endswith(":task-definition/web:3")
    primary, old = started["deployments"]
    assert (primary["status"], primary["rolloutState"], primary["taskDefinition"]) == (
        "PRIMARY",
        "IN_PROGRESS",
        started["taskDefinition"],
    )
    assert (old["id"], old["status"], old["runningCount"]) == (before["id"], "ACTIVE", 2)
    # The old tasks keep serving until the new ones run.
    assert started["runningCount"] == 2

    settled = _wait_for(ecs, service, _settled)
    (only,) = settled["deployments"]
    assert only["id"] == primary["id"] and only["taskDefinition"] == started["taskDefinition"]
    assert (settled["runningCount"], only["runningCount"]) == (2, 2)


def test_force_new_deployment_restarts_on_the_same_task_definition(ecs: Any, service: str) -> None:
    settled = _wait_for(ecs, service, _settled)
    ecs.update_service(cluster="prod", service=service, forceNewDeployment=True)
    restarted = _describe(ecs, service)
    assert [d["status"] for d in restarted["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert restarted["deployments"][0]["id"] != settled["deployments"][0]["id"]
    assert restarted["deployments"][0]["taskDefinition"] == settled["taskDefinition"]
    done = _wait_for(ecs, service, _settled)
    assert done["deployments"][0]["id"] == restarted["deployments"][0]["id"]


def test_running_count_follows_desired_count(ecs: Any, service: str) -> None:
    _wait_for(ecs, service, _settled)
    ecs.update_service(cluster="prod", service=service, desiredCount=5)
    scaled = _describe(ecs, service)
    assert (scaled["desiredCount"], scaled["runningCount"]) == (5, 2)  # moto alone answers 5 running at once
    assert scaled["deployments"][0]["desiredCount"] == 5
    grown = _wait_for(ecs, service, lambda found: found["runningCount"] == 5)
    assert grown["pendingCount"] == 0
    ecs.update_service(cluster="prod", service=service, desiredCount=1)
    _wait_for(ecs, service, lambda found: found["runningCount"] == 1 and found["pendingCount"] == 0)


def test_cluster_counts_are_the_sum_of_its_services(ecs: Any) -> None:
    ecs.create_cluster(clusterName="counted")
    for name, desired in (("a", 2), ("b", 3)):
        ecs.create_service(cluster="counted", serviceName=name, taskDefinition="web:1", desiredCount=desired)
    ecs.update_service(cluster="counted", service="a", taskDefinition="web:2")
    ecs.update_service(cluster="counted", service="b", forceNewDeployment=True, desiredCount=1)
    deadline = time.monotonic() + DEADLINE_S
    while True:
        services = ecs.describe_services(cluster="counted", services=["a", "b"])["services"]
        cluster = ecs.describe_clusters(clusters=["counted"])["clusters"][0]
        counts = (sum(s["runningCount"] for s in services), sum(s["pendingCount"] for s in services))
        # A step may fall between the two reads: compare only when the cluster agrees with a settled state.
        if all(_settled(s) for s in services) and counts == (3, 0):
            break
        assert time.monotonic() < deadline, f"services did not settle: {services}"
        time.sleep(0.1)
    cluster = ecs.describe_clusters(clusters=["counted"])["clusters"][0]
    assert (cluster["runningTasksCount"], cluster["pendingTasksCount"]) == (3, 0)


def test_a_scalable_target_brings_desired_count_inside_its_bounds(cloud: EmbeddedCloud, ecs: Any, service: str) -> None:
    autoscaling = make_client(cloud.endpoint_url, "application-autoscaling")
    resource_id = f"service/prod/{service}"

    def register(minimum: int, maximum: int) -> None:
        autoscaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=resource_id,
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=minimum,
            MaxCapacity=maximum,
        )

    register(4, 6)
    assert _describe(ecs, service)["desiredCount"] == 4
    _wait_for(ecs, service, lambda found: found["runningCount"] == 4 and _settled(found))
    register(1, 3)
    assert _describe(ecs, service)["desiredCount"] == 3
    register(1, 5)  # inside the bounds already: left alone
    assert _describe(ecs, service)["desiredCount"] == 3
    (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 5)


def test_a_rollout_in_progress_survives_a_restart_and_finishes(tmp_path: Path) -> None:
    """As `healops up` runs it (its own process, the default extensions): the deployments are kept in the snapshot."""
    port = free_port("127.0.0.1")
    ecs = make_client(f"http://127.0.0.1:{port}", "ecs")
    try:
        start_server(tmp_path, "127.0.0.1", port, 30.0, snapshot_every=0.0)
        ecs.create_cluster(clusterName="kept")
        for image in ("app:1", "app:2"):
            ecs.register_task_definition(
                family="kept", containerDefinitions=[{"name": "app", "image": image, "memory": 256}]
            )
        ecs.create_service(cluster="kept", serviceName="web", taskDefinition="kept:1", desiredCount=2)
        _wait_for(ecs, "web", lambda found: found["clusterArn"].endswith("/kept") and _settled(found), "kept")
        assert server_process(tmp_path).stop()
        # At time scale 1 a step is 30 s: the new deployment waits, untouched, for the restart.
        start_server(tmp_path, "127.0.0.1", port, 1.0, snapshot_every=0.0)
        ecs.update_service(cluster="kept", service="web", taskDefinition="kept:2")
        primary, old = _describe(ecs, "web", "kept")["deployments"]
        assert server_process(tmp_path).stop()

        start_server(tmp_path, "127.0.0.1", port, 30.0, snapshot_every=0.0)
        restored = _describe(ecs, "web", "kept")["deployments"]
        assert restored[0]["id"] == primary["id"] and old["id"] in {d["id"] for d in restored}
        done = _wait_for(ecs, "web", _settled, "kept")
        assert done["deployments"][0]["id"] == primary["id"] and done["runningCount"] == 2
        assert done["taskDefinition"].endswith("task-definition/kept:2")
    finally:
        server_process(tmp_path).stop()


def test_a_service_without_a_network_configuration_is_answered_as_aws_answers_it(ecs: Any) -> None:
    # moto answers `"networkConfiguration": {}`, on which Terraform's AWS provider 5.100 crashes (a nil
    # awsvpcConfiguration), and drops availabilityZoneRebalancing, which the provider then plans again on every plan.
    raw: list[str] = []

    def keep(http_response: Any, **_: Any) -> None:
        raw.append(http_response.text)

    ecs.meta.events.register("after-call.ecs.DescribeServices", keep)
    try:
        ecs.create_service(cluster="prod", serviceName="no-network", taskDefinition="web:1", desiredCount=1)
        ecs.create_service(
            cluster="prod",
            serviceName="no-rebalancing",
            taskDefinition="web:1",
            desiredCount=1,
            availabilityZoneRebalancing="DISABLED",
        )
        found = ecs.describe_services(cluster="prod", services=["no-network", "no-rebalancing"])["services"]
    finally:
        ecs.meta.events.unregister("after-call.ecs.DescribeServices", keep)
    assert "networkConfiguration" not in raw[-1]
    assert [s["availabilityZoneRebalancing"] for s in found] == ["ENABLED", "DISABLED"]
