"""The detection core driven tick by tick by the fleet's pure telemetry model (no AWS)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from healops.bench.prediction import detection_for
from healops.detection.correlate import Change, CorrelationState, DependencyGraph, correlate, hand_back
from healops.detection.engine import FleetDetection, TickInput
from healops.detection.service import ServiceDetector
from healops.detection.signals import Signal
from healops.fleet.faults import FAULTS
from healops.fleet.simulator import MORNING_TICK
from tests.unit.fleet.sim import NIGHT_TICK, Sim

WARMUP = 60


def drive(sim: Sim, detection: FleetDetection, ticks: int) -> list[tuple[int, Change]]:
    changes = []
    for _ in range(ticks):
        tick = sim.tick
        inputs = {name: TickInput(t.metrics, t.logs) for name, t in sim.step().items()}
        changes += [(tick, change) for change in detection.step(tick, inputs)]
    return changes


def inject_after_warmup(fault: str, service: str, ticks: int = 40, **params: Any) -> tuple[int, list]:
    sim = Sim(size=8, seed=7)
    detection = detection_for(sim)
    assert drive(sim, detection, WARMUP) == []
    start = sim.tick
    sim.inject(service, fault, **params)
    return start, drive(sim, detection, ticks)


STEP_FAULTS = {
    "cpu_saturation": "checkout",
    "cpu_spike": "checkout",
    "service_crash": "inventory",
    "network_latency": "payments",
    "error_storm": "search",
    "bad_deploy": "checkout",
    "dependency_failure": "ledger-db",
}


def test_every_fleet_fault_type_is_covered_here() -> None:
    assert set(STEP_FAULTS) | {"memory_leak", "disk_exhaustion"} == set(FAULTS)


@pytest.mark.parametrize(("fault", "service"), sorted(STEP_FAULTS.items()))
def test_step_fault_opens_one_incident_on_its_service_within_two_ticks(fault: str, service: str) -> None:
    start, changes = inject_after_warmup(fault, service)
    opened = [(tick, c) for tick, c in changes if c.action == "open"]
    assert opened, f"{fault} on {service} opened nothing"
    tick, change = opened[0]
    assert tick - start <= 1  # the injection tick or the next: within 2 ticks
    assert change.episode.root == service
    assert len(opened) == 1, [c.episode.incident_id for _, c in opened]


@pytest.mark.parametrize(
    ("fault", "service"),
    [
        # A burst explains the timeouts of its own load, not a deploy's errors. Found when a runner test deployed
        # at 14:00 of a real day: the burst kept the error rate's signal weak and the incident opened 4 ticks late.
        ("bad_deploy", "checkout"),
        # A burst's heavier requests raise CPU per request a little, not by the fault's 40 points: the spike was
        # explained away until the burst ended, 4 ticks late (found by bench step-faults at 08:20, seed 7).
        ("cpu_spike", "notifications"),
    ],
)
def test_a_fault_starting_with_a_traffic_burst_opens_within_two_ticks(fault: str, service: str) -> None:
    from healops.fleet.telemetry import SPIKE_BLOCK_TICKS, in_benign_spike

    burst = next(
        t
        for t in range(MORNING_TICK + WARMUP, MORNING_TICK + 30 * 24 * 60, SPIKE_BLOCK_TICKS)
        if in_benign_spike(7, service, t) and not in_benign_spike(7, service, t - SPIKE_BLOCK_TICKS)
    )
    sim = Sim(size=8, seed=7, tick=burst - WARMUP)  # the fault lands as the burst starts
    detection = detection_for(sim)
    assert drive(sim, detection, WARMUP) == []
    start = sim.tick
    assert all(in_benign_spike(7, service, t) for t in range(start, start + 3))
    sim.inject(service, fault)
    opened = [(tick, c) for tick, c in drive(sim, detection, 10) if c.action == "open"]
    assert opened and opened[0][1].episode.root == service
    assert opened[0][0] - start <= 1, opened[0][0] - start


def surge_at_night(service: str) -> tuple[int, list[tuple[int, Change]]]:
    sim = Sim(size=8, seed=7, tick=NIGHT_TICK - WARMUP)
    detection = detection_for(sim)
    assert drive(sim, detection, WARMUP) == []
    start = sim.tick
    sim.inject(service, "cpu_saturation")  # four times the traffic, the default
    return start, drive(sim, detection, 8)


def test_a_surge_at_night_that_leaves_little_cpu_headroom_opens_a_saturation_incident() -> None:
    # auth at 17% CPU takes four times its traffic at 70-78%: no latency or error symptom yet, one benign burst
    # (1.4x and +8 points) from saturation. It opened nothing before the surge itself was a signal.
    start, changes = surge_at_night("auth")
    opened = [(tick, c) for tick, c in changes if c.action == "open"]
    assert opened, "the surge opened nothing"
    tick, change = opened[0]
    assert tick - start <= 1 and change.episode.root == "auth" and len(opened) == 1
    assert (change.episode.family, change.episode.kind) == ("saturation", "traffic_surge")
    assert "little headroom left" in next(s.detail for s in change.signals if s.kind == "traffic_surge")


def test_a_surge_the_service_takes_with_room_to_spare_opens_nothing() -> None:
    # notifications at 12% CPU takes the same surge at 44-49%: nothing to act on
    _, changes = surge_at_night("notifications")
    assert [c for _, c in changes if c.action == "open"] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "service", "params"),
    [
        ("memory_leak", "checkout", {}),
        ("memory_leak", "search", {"leak_mb_per_tick": 40}),
        ("disk_exhaustion", "checkout", {}),
        ("disk_exhaustion", "ledger-db", {"fill_pct_per_tick": 1.5}),
        # slow leaks, which noise hides from the 8-tick window (they were never predicted): the 32-tick one sees them
        ("memory_leak", "ledger-db", {"leak_mb_per_tick": 25}),
        ("memory_leak", "search", {"leak_mb_per_tick": 15}),
    ],
)
def test_resource_exhaustion_is_predicted_ten_ticks_ahead_with_an_eta_within_25_percent(
    fault: str, service: str, params: dict[str, Any]
) -> None:
    sim = Sim(size=8, seed=7)
    detection = detection_for(sim)
    drive(sim, detection, WARMUP)
    sim.inject(service, fault, **params)
    start = sim.tick
    predicted_at = eta_s = None
    exhausted_at = None
    for _ in range(200):
        tick = sim.tick
        ticks = sim.step()
        metric = "MemoryUtilization" if fault == "memory_leak" else "DiskUtilization"
        if exhausted_at is None and ticks[service].metrics[metric] >= 99.4:
            exhausted_at = tick
        for change in detection.step(tick, {n: TickInput(t.metrics, t.logs) for n, t in ticks.items()}):
            if change.action == "open" and predicted_at is None:
                assert change.episode.predicted and change.episode.root == service
                predicted_at, eta_s = tick, change.episode.eta_s
    assert predicted_at is not None and exhausted_at is not None, (predicted_at, exhausted_at)
    actual_s = (exhausted_at - predicted_at) * 60.0
    assert exhausted_at - predicted_at >= 10, (start, predicted_at, exhausted_at)
    assert abs(eta_s - actual_s) / actual_s < 0.25, (eta_s, actual_s)


# ledger-db's memory on a fault-free day (fleet seed 28 from tick 29,001,290): noise around 64%, then four ticks
# rising 2.5 points and falling back. An 8-tick forecast read it as full in 55 minutes and opened an incident.
NOISE_EXCURSION = [64.3, 65.11, 63.99, 64.08, 64.96, 62.76, 64.75, 63.98, 63.92, 64.31, 63.73, 64.08, 64.45, 62.56,
                   64.52, 64.18, 63.37, 63.76, 64.31, 62.97, 63.76, 63.95, 63.94, 65.22, 63.2, 64.28, 63.97, 64.08,
                   64.12, 64.61, 63.1, 64.79, 63.93, 64.55, 62.69, 63.42, 64.86, 64.65, 65.02, 65.89, 66.87, 66.38,
                   64.08, 64.12, 64.23]  # fmt: skip


def test_a_few_ticks_of_noise_rising_together_are_not_a_memory_leak() -> None:
    detector = ServiceDetector("ledger-db")
    signals = [s for t, v in enumerate(NOISE_EXCURSION) for s in detector.observe(t, {"MemoryUtilization": v})]
    assert signals == []


def test_a_forecast_starts_again_after_the_level_falls_and_does_not_project_the_climb_a_fix_ended() -> None:
    # ledger-db's slow leak (0.7 points a tick) rolled back at 80%: memory falls to 63% and stays. A long window
    # straddling the fall still projected the climb and reopened the incident the rollback had fixed.
    detector = ServiceDetector("ledger-db")
    wobble = [0.4, -0.3, 0.1, -0.5, 0.3, 0.0, -0.2, 0.5]
    steady = [63.0 + wobble[t % 8] for t in range(40)]
    climb = [63.0 + 0.7 * t + wobble[t % 8] for t in range(1, 25)]
    after = [63.0 + wobble[t % 8] for t in range(30)]
    signals = {
        t: [s.kind for s in detector.observe(t, {"MemoryUtilization": v})] for t, v in enumerate(steady + climb + after)
    }
    fell = len(steady) + len(climb)
    assert any("memory_exhaustion_predicted" in kinds for t, kinds in signals.items() if t < fell)
    assert all(kinds == [] for t, kinds in signals.items() if t >= fell)


def test_a_benign_burst_on_an_idle_service_at_night_is_weak_but_a_cpu_spike_there_is_not() -> None:
    # fleet seed 19, 05:40 simulated: a benign burst (1.26x the requests, z 2.6: not a traffic burst) brings a
    # batch job's +8 CPU points, which nearly doubles the CPU per request of notifications-1 at 10% CPU
    sim = Sim(size=16, seed=19, tick=29_001_780 - WARMUP)
    detector = ServiceDetector("notifications-1")
    signals = []
    for _ in range(WARMUP + 4):
        tick, row = sim.tick, sim.step()["notifications-1"]
        signals += detector.observe(tick, row.metrics, row.logs)
    assert [s.strong for s in signals if s.kind == "cpu_per_request"] == [False]
    assert "room to spare" in next(s.detail for s in signals if s.kind == "cpu_per_request")
    sim.inject("notifications-1", "cpu_spike")  # +40 points, the default
    tick, row = sim.tick, sim.step()["notifications-1"]
    assert any(s.kind == "cpu_per_request" and s.strong for s in detector.observe(tick, row.metrics, row.logs))


@pytest.mark.slow
def test_fault_free_fleet_over_a_simulated_day_with_bursts_and_deploys_opens_no_incident() -> None:
    sim = Sim(size=16, seed=11)
    detection = detection_for(sim)
    changes = drive(sim, detection, 24 * 60 + WARMUP)
    assert changes == []
    # the day did have what trips naive thresholds
    from healops.fleet.telemetry import benign_deploy_at, in_benign_spike

    ticks = range(MORNING_TICK, sim.tick)
    assert sum(in_benign_spike(11, s, t) for s in sim.states for t in ticks) > 20
    assert sum(benign_deploy_at(11, s, t) for s in sim.states for t in ticks) >= 1


def test_cascade_opens_one_incident_on_the_root_with_the_callers_linked() -> None:
    _, changes = inject_after_warmup("dependency_failure", "ledger-db")
    opened = [c for _, c in changes if c.action in ("open", "reopen")]
    assert len(opened) == 1
    episode = opened[0].episode
    assert episode.root == "ledger-db"
    assert {"payments", "checkout"} <= set(episode.linked)
    assert any("calls ledger-db" in reason for reason in opened[0].reasons)


def test_a_fault_of_its_own_downstream_of_a_cascade_opens_its_own_incident() -> None:
    # ledger-db fails its callers (errors travel up to checkout); checkout also burns CPU per request,
    # which no dependency causes: two incidents, not one with checkout merely linked.
    sim = Sim(size=8, seed=7)
    detection = detection_for(sim)
    assert drive(sim, detection, WARMUP) == []
    sim.inject("ledger-db", "dependency_failure")
    sim.inject("checkout", "cpu_spike")
    opened = [c for _, c in drive(sim, detection, 40) if c.action in ("open", "reopen")]
    roots = {c.episode.root: c for c in opened}
    assert set(roots) == {"ledger-db", "checkout"}, [(c.episode.root, c.reasons) for c in opened]
    assert roots["checkout"].episode.family == "saturation"
    assert any("of its own" in reason for reason in roots["checkout"].reasons)
    assert "payments" in roots["ledger-db"].episode.linked


def test_incident_resolves_after_quiet_ticks_and_a_new_episode_soon_after_reopens_it() -> None:
    sim = Sim(size=8, seed=7)
    detection = detection_for(sim)
    drive(sim, detection, WARMUP)
    sim.inject("search", "error_storm", duration_ticks=5)
    changes = [c for _, c in drive(sim, detection, 30)]
    assert [c.action for c in changes] == ["open", "resolve"]
    sim.inject("search", "error_storm", duration_ticks=3)
    again = [c for _, c in drive(sim, detection, 5)]
    assert [c.action for c in again] == ["reopen"]
    assert again[0].episode.incident_id == changes[0].episode.incident_id


def remediated_then(fault: str, service: str, fix: str, after: int) -> tuple[Change, list[Change]]:
    """``fault`` on ``service`` opens an incident; ``fix`` is applied and a remediation resolves the incident
    (handed back to the detector) while its episode is still open; the changes of the next ``after`` ticks."""
    sim = Sim(size=8, seed=7)
    detection = detection_for(sim)
    drive(sim, detection, WARMUP)
    sim.inject(service, fault)
    opened = next(c for _, c in drive(sim, detection, 10) if c.action == "open")
    sim.act(service, fix)
    drive(sim, detection, 2)  # the remediation verifies over two ticks in band
    assert [e.incident_id for e in detection.state.open_episodes()] == [opened.episode.incident_id]
    changes = []
    for _ in range(after):
        tick = sim.tick
        inputs = {n: TickInput(t.metrics, t.logs) for n, t in sim.step().items()}
        hand_back(detection.state, [opened.episode.incident_id], tick)
        changes += detection.step(tick, inputs)
    return opened, changes


def test_a_fix_that_does_not_hold_reopens_the_incident_the_remediation_resolved() -> None:
    # A restart empties a leaking heap: the remediation verifies and resolves the incident, and the leak goes on.
    # Its episode never went quiet, so without the hand-back the relapse would join an episode that is over.
    opened, changes = remediated_then("memory_leak", "search", "restart", after=30)
    reopened = [c for c in changes if c.action == "reopen"]
    assert reopened, [(c.action, c.reasons) for c in changes]
    assert reopened[0].episode.incident_id == opened.episode.incident_id
    assert any("resolved by a remediation" in r and "did not hold" in r for r in reopened[0].reasons)
    assert not [c for c in changes if c.action == "open"]


def test_a_burn_rate_that_lags_a_fix_that_held_neither_reopens_nor_opens() -> None:
    # Failover ends the dependency failure; the error budget's burn rate over the last hour fires on for a few
    # ticks after the errors stop. That is the past, not a relapse.
    _, changes = remediated_then("dependency_failure", "ledger-db", "failover", after=30)
    assert [c for c in changes if c.action in ("open", "reopen")] == [], [(c.action, c.reasons) for c in changes]


def test_two_runs_from_the_same_state_derive_the_same_incident_id() -> None:
    sim = Sim(size=8, seed=7)
    detection = detection_for(sim)
    drive(sim, detection, WARMUP)
    saved_services = {n: d.to_state() for n, d in detection.detectors.items()}
    saved_correlation = detection.state.to_state()
    sim.inject("auth", "service_crash")
    tick = sim.tick
    inputs = {n: TickInput(t.metrics, t.logs) for n, t in sim.step().items()}
    ids = []
    for _ in range(2):  # two detector runs, each restoring the persisted state
        run = detection_for(sim)
        run.detectors = {n: ServiceDetector.from_state(n, s) for n, s in saved_services.items()}
        run.state = CorrelationState.from_state(saved_correlation)
        ids += [c.episode.incident_id for c in run.step(tick, inputs) if c.action == "open"]
    assert len(ids) == 2 and ids[0] == ids[1] == f"auth-errors-{tick - tick % 15}"


def test_detector_state_round_trips_and_continues_identically() -> None:
    sim = Sim(size=8, seed=3)
    a = ServiceDetector("checkout")
    for _ in range(400):
        t = sim.step()["checkout"]
        a.observe(t.tick, t.metrics, t.logs)
    b = ServiceDetector.from_state("checkout", a.to_state())
    sim.inject("checkout", "error_storm")
    for _ in range(5):
        t = sim.step()["checkout"]
        assert a.observe(t.tick, t.metrics, t.logs) == b.observe(t.tick, t.metrics, t.logs)
    assert len(str(a.to_state())) < 30_000


def test_a_repeated_or_old_tick_is_ignored() -> None:
    detector = ServiceDetector("auth")
    metrics = {"ErrorRate": 0.1, "RequestCount": 100.0, "Heartbeat": 3.0, "CPUUtilization": 20.0}
    for tick in range(20):
        detector.observe(tick, metrics)
    assert detector.observe(5, {**metrics, "ErrorRate": 90.0}) == []


def test_weak_signals_alone_never_open_an_incident() -> None:
    graph = DependencyGraph({"a": ()})
    weak = Signal(service="a", tick=1, kind="new_exception", score=1.0, strong=False, detail="new")
    assert correlate(CorrelationState(), [weak], 1, graph) == []


def test_log_lines_are_untrusted_and_odd_ones_do_not_break_the_detector() -> None:
    detector = ServiceDetector("auth")
    odd: list[Any] = [None, "text", {"level": 3, "exception": "not a mapping"}, {"exception": {"type": "X" * 10_000}}]
    for tick in range(15):
        detector.observe(tick, {"ErrorRate": 0.1}, odd)
    assert math.isfinite(detector.storm.mean)


@pytest.mark.parametrize("ticks_learned", [7, 8, 9])
def test_a_cpu_spike_that_starts_in_the_warm_up_is_not_learned_as_the_normal(ticks_learned: int) -> None:
    """A detector deployed minutes before the fault (the e2e all-faults test injected right after the apply) has
    learned fewer ticks than its warm-up. At night the spike raises no error rate, so only the metrics find it: the
    warm-up ticks it covers must not become the normal it is then scored against (they did: no incident in 15 ticks
    at 7 and 8 ticks learned, and on the deployed stack at night in 5 of 5 runs; docs/lab-notes.md)."""
    sim = Sim(size=8, seed=7, tick=NIGHT_TICK - ticks_learned)
    detection = detection_for(sim)
    warmup = detection.config.warmup_ticks
    assert drive(sim, detection, ticks_learned) == []
    start = sim.tick
    sim.inject("inventory", "cpu_spike", duration_ticks=15, extra_cpu_pct=70.0)
    changes = drive(sim, detection, 15)
    opened = [(tick, c) for tick, c in changes if c.action == "open" and c.episode.root == "inventory"]
    assert opened, "the spike opened nothing"
    tick, change = opened[0]
    assert tick - start <= max(1, warmup - ticks_learned)  # the first tick scored (or the next, as after a warm-up)
    assert change.episode.kind == "cpu_per_request"
