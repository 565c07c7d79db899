"""The pure parts of the target actions: which revision or version came before, and a task definition with more
memory."""

from __future__ import annotations

import pytest

from healops.targets import ActionRecord, EcsServiceState, EcsServiceTarget, TargetActionError
from healops.targets.ecs import revision_of, with_more_memory
from healops.targets.lambda_function import previous_version

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"


def test_revision_of_an_arn_and_of_family_revision() -> None:
    assert revision_of(ARN) == ("web", 7)
    assert revision_of("web:12") == ("web", 12)
    with pytest.raises(TargetActionError, match="names no revision"):
        revision_of("web")


def test_previous_version_is_the_highest_published_below_the_served_one() -> None:
    assert previous_version(["$LATEST", "1", "2", "10", "11"], "11") == "10"
    assert previous_version(["$LATEST", "1", "3"], "3") == "1"  # 2 was deleted
    with pytest.raises(TargetActionError, match="no published version before 1"):
        previous_version(["$LATEST", "1"], "1")
    with pytest.raises(TargetActionError, match="not a published version"):
        previous_version(["$LATEST", "1"], "$LATEST")


def test_more_memory_raises_task_and_container_hard_limits_and_keeps_the_rest() -> None:
    described = {
        "taskDefinitionArn": ARN,
        "family": "web",
        "revision": 7,
        "status": "ACTIVE",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "volumes": [],
        "containerDefinitions": [
            {"name": "app", "image": "app:7", "memory": 400, "memoryReservation": 300},
            {"name": "sidecar", "image": "envoy", "memoryReservation": 64},
        ],
        "registeredAt": "2026-12-04",
    }
    copied = with_more_memory(described, 1.5)
    assert copied["memory"] == "768"
    assert [c.get("memory") for c in copied["containerDefinitions"]] == [600, None]
    assert [c.get("memoryReservation") for c in copied["containerDefinitions"]] == [300, 64]
    # Only what RegisterTaskDefinition takes; the described one is left as it was.
    assert set(copied) == {"family", "requiresCompatibilities", "networkMode", "cpu", "memory", "containerDefinitions"}
    assert described["memory"] == "512" and described["containerDefinitions"][0]["memory"] == 400


def test_more_memory_needs_a_limit_to_raise_and_a_factor_above_one() -> None:
    soft_only = {
        "taskDefinitionArn": ARN,
        "family": "web",
        "containerDefinitions": [{"name": "a", "memoryReservation": 64}],
    }
    with pytest.raises(TargetActionError, match="sets no memory limit"):
        with_more_memory(soft_only, 2.0)
    with pytest.raises(TargetActionError, match="above 1"):
        with_more_memory(soft_only, 1.0)


def test_a_record_serialises_with_its_kind() -> None:
    state = EcsServiceState("arn:td:1", 2, 2, "ecs-svc/1", "COMPLETED")
    record = ActionRecord("scale", EcsServiceTarget("prod", "web"), state, state, {"desired_count": 2})
    assert record.to_dict() == {
        "action": "scale",
        "kind": "ecs_service",
        "target": {"cluster": "prod", "service": "web"},
        "before": {
            "task_definition": "arn:td:1",
            "desired_count": 2,
            "running_count": 2,
            "deployment_id": "ecs-svc/1",
            "rollout_state": "COMPLETED",
            "min_capacity": None,
            "max_capacity": None,
        },
        "after": record.to_dict()["before"],
        "expected": {"desired_count": 2},
    }
