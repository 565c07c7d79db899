"""The remediation engine acting on a real ECS target on the embedded cloud: a bad deploy (a new revision put in
service with UpdateService) is rolled back by UpdateService to the revision before it, seen in DescribeServices,
and the fleet model's telemetry recovers because the service runs another revision; an action with no meaning for
the target's kind is refused by the guard with its reason; a simulated service is acted on as before.

The engine's steps are driven as the state machine drives them (healops/remediation/simulated.py), on the
embedded cloud's DynamoDB, ECS and Application Auto Scaling; the fleet model's clock is manual, the ECS rollouts
run on the cloud's simulated time (time scale 3000: a 30 s task start is 10 ms).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from healops.deploy.tables import create_tables
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from healops.remediation.policy import RemediationLimits
from healops.remediation.simulated import TABLES, SimulatedRemediation
from healops.targets.fleet import ConfiguredTarget, TargetFleet
from healops.targets.model import EcsServiceTarget
from healops.targets.telemetry import EcsBadDeploys
from tests.conftest import make_client
from tests.unit.remediation.world import incident, planned

DEADLINE_S = 60.0
MANAGED = [{"key": "healops:managed", "value": "true"}]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("engine-targets"), time_scale=3000.0)
    with EmbeddedCloud(ctx) as running:
        yield running


def _settled(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        deployments = found["deployments"]
        if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED":
            return found
        assert time.monotonic() < deadline, f"{service} did not settle in {DEADLINE_S} s: {deployments}"
        time.sleep(0.05)


@pytest.fixture
def world(cloud: EmbeddedCloud, request: pytest.FixtureRequest) -> Iterator[tuple[SimulatedRemediation, Any, Any]]:
    """The fleet model with checkout as a real ECS service (revision 1 of its own family, three tasks)."""
    ecs = make_client(cloud.endpoint_url, "ecs")
    cluster = f"demo-{abs(hash(request.node.name)) % 10**8}"
    ecs.create_cluster(clusterName=cluster, tags=MANAGED)
    family = f"{cluster}-checkout"
    ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "app", "image": "checkout:v2.8.0", "memory": 2048}], tags=MANAGED
    )
    ecs.create_service(
        cluster=cluster, serviceName="checkout", taskDefinition=f"{family}:1", desiredCount=3, tags=MANAGED
    )
    _settled(ecs, cluster, "checkout")
    # Tables of the test's own: every world starts at the same manual time, so an earlier test's attempt on
    # checkout would hold this one's in its cooldown.
    dynamodb = make_client(cloud.endpoint_url, "dynamodb")
    for table in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=table)
    create_tables(dynamodb, list(TABLES))
    sim_world = SimulatedRemediation(dynamodb, RemediationLimits())
    fleet = TargetFleet(
        sim_world.fleet,
        {"checkout": ConfiguredTarget("checkout", EcsServiceTarget(cluster, "checkout"))},
        ecs,
        make_client(cloud.endpoint_url, "application-autoscaling"),
        make_client(cloud.endpoint_url, "lambda"),
    )
    sim_world.engine.fleet = fleet
    yield sim_world, fleet, ecs


def test_a_bad_deploy_on_an_ecs_target_is_rolled_back_by_update_service_to_the_revision_before(world: Any) -> None:
    sim_world, fleet, ecs = world
    target = fleet.targets["checkout"].resource
    bad_deploys = EcsBadDeploys({"checkout": fleet.actions_for("checkout")})
    ticking = sim_world.tick

    def tick(n: int = 1) -> None:
        # The model reads the service before each tick: the fault lasts while the bad revision serves.
        for _ in range(n):
            bad_deploys.follow(sim_world.sim)
            ticking(1)

    sim_world.tick = tick  # type: ignore[method-assign]
    sim_world.tick(5)
    bad_revision = bad_deploys.inject("checkout")
    assert bad_revision.endswith(":2")
    sim_world.inject("checkout", "bad_deploy")
    sim_world.tick(3)
    assert max(row["checkout"]["ErrorRate"] for _, row in sim_world.metrics.points[-2:]) > 5.0

    run = sim_world.run(incident("checkout", "errors"))

    attempts = sim_world.engine.remediations.for_incident("unit-checkout-errors").items
    assert run.route == "resolved", (run.tried, attempts)
    acted = [a for a in attempts if a["outcome"] not in ("skipped",)]
    assert [(a["action"], a["verification"]) for a in acted] == [("rollback_deploy", "recovered")]
    assert acted[0]["target_record"]["expected"] == {"task_definition": bad_revision.replace(":2", ":1")}
    service = _settled(ecs, target.cluster, "checkout")
    assert service["taskDefinition"].endswith(":1")
    assert service["deployments"][0]["taskDefinition"].endswith(":1") and service["runningCount"] == 3
    # The fleet model was not written by the action: only the resource's revision ended the fault.
    assert sim_world.fleet.applied == []
    assert not [f for f in sim_world.sim.states["checkout"].faults if f.fault == "bad_deploy"]


def test_an_action_with_no_meaning_for_the_targets_kind_is_refused_by_the_guard_with_its_reason(world: Any) -> None:
    sim_world, fleet, ecs = world
    sim_world.engine.planner = planned(("clear_disk", {}))
    sim_world.tick(3)
    run = sim_world.run(incident("checkout", "disk_exhaustion_predicted"))
    assert run.route == "escalate"
    [attempt] = sim_world.engine.remediations.for_incident("unit-checkout-disk_exhaustion_predicted").items
    assert (attempt["guard_decision"], attempt["outcome"]) == ("deny", "refused")
    assert attempt["guard_reasons"] == [
        "clear_disk has no meaning for checkout, an ECS service: it accepts raise_memory_limit, restart, rollback, "
        "scale_in, scale_out"
    ]
    steps, _ = sim_world.engine.decisions.for_incident("unit-checkout-disk_exhaustion_predicted")
    assert any(s.phase == "guarded" and "has no meaning for checkout" in s.detail for s in steps)
    assert _settled(ecs, fleet.targets["checkout"].resource.cluster, "checkout")["taskDefinition"].endswith(":1")


def test_a_service_that_is_not_a_target_is_acted_on_in_the_fleet_model_as_before(world: Any) -> None:
    sim_world, _, _ = world
    sim_world.tick(5)
    sim_world.sim.inject("search", "cpu_saturation")
    sim_world.tick(1)
    run = sim_world.run(incident("search", "latency"))
    assert run.route == "resolved", run.tried
    assert sim_world.fleet.applied == [("search", "scale_out")]


def test_a_rollback_that_did_not_take_is_not_a_recovery_even_when_the_metrics_recover(world: Any) -> None:
    sim_world, fleet, ecs = world
    target = fleet.targets["checkout"].resource
    bad_deploys = EcsBadDeploys({"checkout": fleet.actions_for("checkout")})
    sim_world.tick(5)
    bad_revision = bad_deploys.inject("checkout")
    sim_world.inject("checkout", "bad_deploy")
    sim_world.tick(3)
    sim_world.engine.planner = planned(("rollback_deploy", {}))
    acting = sim_world.engine.act

    def act_then_redeploy(run: Any) -> Any:
        # Someone's pipeline puts the bad revision back at once; the model's fault ends all the same, so the
        # metrics recover: only reading the service back can tell that the rollback did not take.
        after = acting(run)
        ecs.update_service(cluster=target.cluster, service="checkout", taskDefinition=bad_revision)
        state = sim_world.sim.states["checkout"]
        sim_world.sim.states["checkout"] = state.model_copy(update={"faults": ()})
        return after

    sim_world.engine.act = act_then_redeploy  # type: ignore[method-assign]
    run = sim_world.run(incident("checkout", "errors"))
    attempts = sim_world.engine.remediations.for_incident("unit-checkout-errors").items
    assert run.route == "escalate", run.tried
    [attempt] = [a for a in attempts if a["action"] == "rollback_deploy"]
    assert attempt["verification"] == "not_recovered", (attempts, run.tried)
    assert attempt["verification_detail"].startswith("read back, the action did not take: the primary deployment")
