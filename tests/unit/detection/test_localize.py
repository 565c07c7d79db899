"""Root-cause ranking over recorded ticks: the fleet's detectors and correlation, no labels."""

from __future__ import annotations

import random

from healops.detection.correlate import DependencyGraph
from healops.detection.localize import LocalizeConfig, Tick, rank_root_causes

# frontend calls cart and ads; cart calls db
GRAPH = DependencyGraph({"frontend": ["cart", "ads"], "cart": ["db"], "ads": [], "db": []})
SERVICES = ["ads", "cart", "db", "frontend"]


def normal_ticks(n: int, seed: int) -> list[dict[str, dict[str, float]]]:
    rng = random.Random(seed)
    return [
        {
            s: {
                "LatencyP50": 20 * rng.uniform(0.95, 1.05),
                "LatencyP99": 80 * rng.uniform(0.95, 1.05),
                "ErrorRate": rng.uniform(0.0, 0.4),
                "RequestCount": 500 * rng.uniform(0.95, 1.05),
            }
            for s in SERVICES
        }
        for _ in range(n)
    ]


def slow(ticks: list[dict[str, dict[str, float]]], services: list[str], start: int, end: int, factor: float) -> None:
    for tick in ticks[start:end]:
        for service in services:
            tick[service]["LatencyP50"] *= factor
            tick[service]["LatencyP99"] *= factor


def test_a_slow_dependency_is_ranked_above_the_callers_it_slows_and_the_quiet_services() -> None:
    ticks: list[Tick] = normal_ticks(40, seed=1)
    slow(ticks, ["db", "cart", "frontend"], 30, 40, 4.0)  # type: ignore[arg-type]
    ranking = rank_root_causes(ticks, GRAPH, SERVICES, warmup=normal_ticks(60, seed=2))
    assert ranking.incident is not None and ranking.incident.root == "db" and ranking.incident.tick == 30
    assert ranking.services[0] == "db"
    assert set(ranking.services[1:3]) == {"cart", "frontend"}  # linked to db's incident
    assert ranking.services[3] == "ads"


def test_the_incident_ranked_is_the_chosen_episode_when_the_stretch_holds_two() -> None:
    ticks: list[Tick] = normal_ticks(60, seed=3)
    slow(ticks, ["ads"], 15, 18, 6.0)  # type: ignore[arg-type]  # an earlier, stronger fault on ads
    slow(ticks, ["db"], 50, 60, 3.0)  # type: ignore[arg-type]
    warmup = normal_ticks(60, seed=4)
    last = rank_root_causes(ticks, GRAPH, SERVICES, warmup, LocalizeConfig(incident="last"))
    first = rank_root_causes(ticks, GRAPH, SERVICES, warmup, LocalizeConfig(incident="first"))
    strongest = rank_root_causes(ticks, GRAPH, SERVICES, warmup, LocalizeConfig(incident="strongest"))
    assert [o.root for o in last.openings] == ["ads", "db"]
    assert (last.services[0], first.services[0], strongest.services[0]) == ("db", "ads", "ads")
    assert sorted(last.services) == SERVICES


def test_without_any_episode_every_candidate_is_ranked_by_how_far_it_moved() -> None:
    ticks: list[Tick] = normal_ticks(20, seed=5)
    slow(ticks, ["cart"], 10, 20, 1.3)  # type: ignore[arg-type]  # moves, but not enough to signal
    ranking = rank_root_causes(ticks, GRAPH, SERVICES, warmup=normal_ticks(60, seed=6))
    assert ranking.incident is None and ranking.services[0] == "cart" and sorted(ranking.services) == SERVICES


def test_an_episode_already_signalling_when_the_stretch_begins_is_not_the_incident_however_strong() -> None:
    ticks: list[Tick] = normal_ticks(40, seed=7)
    slow(ticks, ["ads"], 0, 40, 10.0)  # type: ignore[arg-type]  # off its (older) normal from the first tick on
    slow(ticks, ["db"], 20, 40, 3.0)  # type: ignore[arg-type]
    ranking = rank_root_causes(ticks, GRAPH, SERVICES, warmup=normal_ticks(60, seed=8))
    assert [o.root for o in ranking.openings][:2] == ["ads", "db"]
    assert ranking.incident is not None and ranking.incident.root == "db"
    assert ranking.services[0] == "db"
