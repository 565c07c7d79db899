"""The rollout step of the embedded cloud's ECS services, step by step on plain deployment dicts."""

from __future__ import annotations

from typing import Any

from healops.local.ecs import rollout
from healops.local.ecs.rollout import Limits

NOW = "now"


def _counts(deployments: list[dict[str, Any]]) -> list[tuple[str, str, int, int]]:
    return [(d["id"], d["status"], d["runningCount"], d["pendingCount"]) for d in deployments]


def _steady(desired: int) -> list[dict[str, Any]]:
    return [
        {
            "id": "old",
            "status": "PRIMARY",
            "taskDefinition": "td:1",
            "desiredCount": desired,
            "runningCount": desired,
            "pendingCount": 0,
            "rolloutState": "COMPLETED",
        }
    ]


def test_a_new_revision_runs_after_one_step_and_the_old_one_is_gone_after_two() -> None:
    deployments = rollout.start_deployment(_steady(3), "new", "td:2", 3, NOW)
    assert _counts(deployments) == [("new", "PRIMARY", 0, 0), ("old", "ACTIVE", 3, 0)]
    assert deployments[0]["rolloutState"] == "IN_PROGRESS"

    first = rollout.step(deployments, 3, Limits(), NOW)
    assert _counts(first.deployments) == [("new", "PRIMARY", 0, 3), ("old", "ACTIVE", 3, 0)]
    assert not first.completed

    second = rollout.step(first.deployments, 3, Limits(), NOW)
    assert _counts(second.deployments) == [("new", "PRIMARY", 3, 0)]
    assert second.completed and second.deployments[0]["rolloutState"] == "COMPLETED"
    assert second.deployments[0]["rolloutStateReason"] == "ECS deployment new completed."

    third = rollout.step(second.deployments, 3, Limits(), NOW)
    assert not third.completed and _counts(third.deployments) == [("new", "PRIMARY", 3, 0)]


def test_minimum_healthy_percent_keeps_old_tasks_until_new_ones_run() -> None:
    # 150 % leaves room for 2 new tasks beside the 4 old ones; 100 % healthy lets old ones go only as new ones run.
    limits = Limits(maximum_percent=150, minimum_healthy_percent=100)
    deployments = rollout.start_deployment(_steady(4), "new", "td:2", 4, NOW)
    history = []
    for _ in range(4):
        deployments = rollout.step(deployments, 4, limits, NOW).deployments
        history.append(_counts(deployments))
    assert history == [
        [("new", "PRIMARY", 0, 2), ("old", "ACTIVE", 4, 0)],
        [("new", "PRIMARY", 2, 2), ("old", "ACTIVE", 2, 0)],
        [("new", "PRIMARY", 4, 0)],
        [("new", "PRIMARY", 4, 0)],
    ]
    total_running = [sum(entry[2] for entry in step) for step in history]
    assert min(total_running) >= 4


def test_limits_that_allow_neither_launching_nor_draining_replace_one_task_at_a_time() -> None:
    limits = Limits(maximum_percent=100, minimum_healthy_percent=100)
    deployments = rollout.start_deployment(_steady(2), "new", "td:2", 2, NOW)
    for _ in range(8):
        moved = rollout.step(deployments, 2, limits, NOW)
        deployments = moved.deployments
        if moved.completed:
            break
    assert _counts(deployments) == [("new", "PRIMARY", 2, 0)]


def test_scale_out_is_pending_for_a_step_and_scale_in_is_at_once() -> None:
    deployments = rollout.rescale(_steady(2), 5, NOW)
    assert deployments[0]["desiredCount"] == 5
    deployments = rollout.step(deployments, 5, Limits(), NOW).deployments
    assert _counts(deployments) == [("old", "PRIMARY", 2, 3)] and rollout.totals(deployments) == (2, 3)
    deployments = rollout.step(deployments, 5, Limits(), NOW).deployments
    assert rollout.totals(deployments) == (5, 0)
    deployments = rollout.step(rollout.rescale(deployments, 1, NOW), 1, Limits(), NOW).deployments
    assert rollout.totals(deployments) == (1, 0)


def test_a_step_leaves_the_given_deployments_untouched() -> None:
    given = rollout.start_deployment(_steady(2), "new", "td:2", 2, NOW)
    copies = [dict(d) for d in given]
    rollout.step(given, 2, Limits(), NOW)
    assert given == copies


def test_a_deployment_replaced_before_it_ran_anything_is_dropped() -> None:
    deployments = rollout.start_deployment(_steady(2), "second", "td:2", 2, NOW)
    deployments = rollout.start_deployment(deployments, "third", "td:3", 2, NOW)
    assert [(d["id"], d["status"]) for d in deployments] == [("third", "PRIMARY"), ("old", "ACTIVE")]


def test_limits_read_from_a_deployment_configuration() -> None:
    assert Limits.of(None) == Limits(200, 100)
    assert Limits.of({"maximumPercent": 150, "minimumHealthyPercent": 50}) == Limits(150, 50)
