"""The actions on real ECS services and Lambda functions, against the embedded cloud through boto3: each records
the state before and after, verify reads the resource back, undo puts the recorded state back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from healops.local.context import EmbeddedContext
from healops.local.ecs import ServiceDeployments
from healops.local.lambdaaliases import AliasRouting
from healops.local.server import EmbeddedCloud
from healops.targets import (
    EcsServiceActions,
    EcsServiceTarget,
    LambdaFunctionActions,
    LambdaFunctionTarget,
    TargetActionError,
    Verdict,
    VerdictStatus,
)
from tests.conftest import make_client
from tests.helpers import zipped

# Generous: a rollout is two steps of 30 simulated seconds (2 s of real time at time scale 30) on a loaded machine.
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("targets"), time_scale=30.0)
    with EmbeddedCloud(ctx, extensions=[ServiceDeployments(), AliasRouting()]) as running:
        yield running


def _settle(actions: Any, record: Any) -> Verdict:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        verdict = actions.verify(record)
        if verdict.status is not VerdictStatus.IN_PROGRESS:
            return verdict
        assert time.monotonic() < deadline, f"still in progress after {DEADLINE_S} s: {verdict.reason}"
        time.sleep(0.1)


# ---------------------------------------------------------------- ECS
@pytest.fixture
def service(cloud: EmbeddedCloud) -> EcsServiceActions:
    ecs = make_client(cloud.endpoint_url, "ecs")
    cluster, family = f"c-{uuid.uuid4().hex[:6]}", f"web-{uuid.uuid4().hex[:6]}"
    ecs.create_cluster(clusterName=cluster)
    for image in ("app:1", "app:2"):
        ecs.register_task_definition(
            family=family,
            containerDefinitions=[{"name": "app", "image": image, "memory": 512}],
            tags=[{"key": "healops:managed", "value": "true"}],
        )
    ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=f"{family}:2", desiredCount=2)
    return EcsServiceActions(
        EcsServiceTarget(cluster, "web"), ecs, make_client(cloud.endpoint_url, "application-autoscaling")
    )


def test_ecs_rollback_goes_to_the_revision_before_and_is_verified_once_rolled_out(service: EcsServiceActions) -> None:
    record = service.rollback()
    assert record.before.task_definition.endswith(":2") and record.after.task_definition.endswith(":1")
    assert record.expected == {"task_definition": record.after.task_definition}
    assert service.verify(record).status is VerdictStatus.IN_PROGRESS  # the new deployment has no task yet
    verdict = _settle(service, record)
    assert verdict.taken, verdict.reason
    assert (verdict.state.running_count, verdict.state.rollout_state) == (2, "COMPLETED")

    # Back on :1 there is nothing before it.
    with pytest.raises(TargetActionError, match="no ACTIVE revision before 1"):
        service.rollback()


def test_ecs_rollback_that_was_overridden_is_not_taken(service: EcsServiceActions) -> None:
    record = service.rollback()
    service.ecs.update_service(
        cluster=service.target.cluster, service="web", taskDefinition=record.before.task_definition
    )
    verdict = service.verify(record)
    assert verdict.status is VerdictStatus.NOT_TAKEN and "not " in verdict.reason


def test_ecs_restart_is_a_new_deployment_of_the_same_revision(service: EcsServiceActions) -> None:
    first = _settle(service, service.rollback()).state  # settled on some deployment
    record = service.restart()
    assert record.after.deployment_id != first.deployment_id
    assert record.after.task_definition == first.task_definition
    assert _settle(service, record).taken


def test_ecs_raise_memory_registers_a_copy_with_more_memory(service: EcsServiceActions) -> None:
    record = service.raise_memory(1.5)
    new_arn = record.after.task_definition
    assert new_arn.endswith(":3")
    described = service.ecs.describe_task_definition(taskDefinition=new_arn, include=["TAGS"])
    (container,) = described["taskDefinition"]["containerDefinitions"]
    assert (container["memory"], container["image"]) == (768, "app:2")
    assert {"key": "healops:managed", "value": "true"} in described["tags"]
    assert _settle(service, record).taken


def test_ecs_scale_moves_registered_bounds_first_and_undo_puts_them_back(
    service: EcsServiceActions,
) -> None:
    service.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=service.target.scalable_resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=3,
    )
    record = service.scale(5)
    assert (record.before.desired_count, record.before.min_capacity, record.before.max_capacity) == (2, 1, 3)
    assert (record.after.desired_count, record.after.min_capacity, record.after.max_capacity) == (5, 5, 5)
    verdict = _settle(service, record)
    assert verdict.taken and verdict.state.running_count == 5

    undone = service.undo(record)
    assert (undone.after.desired_count, undone.after.min_capacity, undone.after.max_capacity) == (2, 1, 3)
    assert _settle(service, undone).state.running_count == 2


def test_ecs_scale_without_a_scalable_target_sets_desired_count_only(service: EcsServiceActions) -> None:
    record = service.scale(3)
    assert (record.after.desired_count, record.after.min_capacity) == (3, None)
    assert _settle(service, record).state.running_count == 3


def test_a_missing_service_is_named(service: EcsServiceActions) -> None:
    missing = EcsServiceActions(EcsServiceTarget(service.target.cluster, "nope"), service.ecs, service.autoscaling)
    with pytest.raises(TargetActionError, match="ECS service nope in cluster"):
        missing.restart()


# ---------------------------------------------------------------- Lambda
@pytest.fixture
def function(cloud: EmbeddedCloud) -> LambdaFunctionActions:
    lam = make_client(cloud.endpoint_url, "lambda")
    iam = make_client(cloud.endpoint_url, "iam")
    name = f"fn-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": "def handler(event, context):\n    return 1\n"})},
        MemorySize=256,
    )
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=zipped({"app.py": "def handler(event, context):\n    1/0\n"}))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    return LambdaFunctionActions(LambdaFunctionTarget(name, "live"), lam)


def test_lambda_rollback_moves_the_alias_to_the_version_before(function: LambdaFunctionActions) -> None:
    record = function.rollback()
    assert (record.before.alias_version, record.after.alias_version) == ("2", "1")
    assert function.client.get_alias(FunctionName=function.target.function_name, Name="live")["FunctionVersion"] == "1"
    assert function.verify(record).taken
    with pytest.raises(TargetActionError, match="no published version before 1"):
        function.rollback()

    undone = function.undo(record)
    assert undone.after.alias_version == "2" and function.verify(undone).taken


def test_lambda_rollback_clears_the_alias_weights(function: LambdaFunctionActions) -> None:
    function.client.update_alias(
        FunctionName=function.target.function_name,
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}},
    )
    record = function.rollback()
    assert record.before.alias_weights == {"1": 0.1}
    assert (record.after.alias_version, record.after.alias_weights) == ("1", {})
    assert function.verify(record).taken
    assert function.undo(record).after.alias_weights == {"1": 0.1}


def test_lambda_rollback_moved_back_by_someone_else_is_not_taken(function: LambdaFunctionActions) -> None:
    record = function.rollback()
    function.client.update_alias(FunctionName=function.target.function_name, Name="live", FunctionVersion="2")
    verdict = function.verify(record)
    assert verdict.status is VerdictStatus.NOT_TAKEN and "serves version 2, not 1" in verdict.reason


def test_lambda_throttle_and_undo(function: LambdaFunctionActions) -> None:
    record = function.throttle(2)
    assert (record.before.reserved_concurrency, record.after.reserved_concurrency) == (None, 2)
    assert function.verify(record).taken
    undone = function.undo(record)
    assert undone.after.reserved_concurrency is None


def test_lambda_raise_memory_publishes_and_moves_the_alias(function: LambdaFunctionActions) -> None:
    record = function.rollback()  # serve version 1, whose code differs from $LATEST's
    with pytest.raises(TargetActionError, match="unreleased code"):
        function.raise_memory()
    function.undo(record)  # back on 2, which is $LATEST's code
    raised = function.raise_memory(2.0)
    assert (raised.before.memory_size_mb, raised.after.memory_size_mb) == (256, 512)
    assert raised.after.alias_version == "3" and function.verify(raised).taken


def test_an_alias_moved_meanwhile_makes_the_move_fail(function: LambdaFunctionActions) -> None:
    alias = function.client.get_alias(FunctionName=function.target.function_name, Name="live")
    function.client.update_alias(FunctionName=function.target.function_name, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as refused:
        function._move_alias("2", alias["RevisionId"])
    assert refused.value.response["Error"]["Code"] == "PreconditionFailedException"
