"""Several faults at once on neighbouring services, on the fleet model with the detector watching (the closed-loop
bench's parts) and the deployed default policy, no human answering: each incident is planned on its own root and
fixed, and nothing acts on a service that was not at fault. (tests/e2e/test_concurrent_faults.py: the same on the
deployed stack.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from healops.bench.closed_loop import DetectorWatch, _drain
from healops.bench.prediction import ReadOptions, scheduled_for
from healops.bench.remediation_sweep import moto_tables
from healops.deploy.tables import create_tables
from healops.detection.runner import IncidentSink
from healops.fleet.simulator import MORNING_TICK
from healops.remediation.policy import RemediationLimits
from healops.remediation.simulated import TABLES, SimulatedRemediation

LEAK, BAD_DEPLOY, DISK = "checkout", "payments", "edge"  # checkout calls payments; edge calls checkout
FIX = {LEAK: "rollback", BAD_DEPLOY: "rollback", DISK: "clear_disk"}


@pytest.fixture
def world() -> Iterator[tuple[SimulatedRemediation, Any, str]]:
    with moto_tables() as dynamodb:
        create_tables(dynamodb, TABLES)
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="incidents")["QueueUrl"]
        world = SimulatedRemediation(dynamodb, RemediationLimits(), tick=MORNING_TICK - 60, size=8, seed=7)
        sink = IncidentSink(world.engine.incidents, world.engine.decisions, sqs, queue_url, s3=None, bucket=None)
        world.watchers.append(DetectorWatch(world, sink, scheduled_for(world.sim, ReadOptions()), LEAK, 7))
        world.tick(60)
        yield world, sqs, queue_url


def test_a_leak_a_bad_deploy_on_its_dependency_and_a_disk_fill_are_each_fixed_on_their_own_root(
    world: tuple[SimulatedRemediation, Any, str],
) -> None:
    sim, sqs, queue_url = world
    sim.deployed(LEAK, minutes_ago=10)  # the leak shipped with that version
    sim.inject(LEAK, "memory_leak")
    sim.inject(BAD_DEPLOY, "bad_deploy")
    sim.inject(DISK, "disk_exhaustion")
    runs = []
    for _ in range(90):
        sim.tick()
        for incident in _drain(sqs, queue_url):
            run = sim.run(incident, approve=False)
            runs.append((incident.service, run.route, [c.service for c in run.candidates], run.diagnosis))
        if all(any(action == FIX[s] for service, action in sim.fleet.applied if service == s) for s in FIX):
            break
    story = "\n".join(map(str, runs))
    assert {service for service, *_ in runs} == set(FIX), story
    assert all(route == "resolved" for _, route, *_ in runs), story  # nobody asked a human, nothing escalated
    for root, _, candidates, _ in runs:
        assert set(candidates) == {root}, story  # each plan acts on its own root only
    assert {service for service, _ in sim.fleet.applied} <= set(FIX), sim.fleet.applied
    for service, action in FIX.items():
        assert (service, action) in sim.fleet.applied, sim.fleet.applied
