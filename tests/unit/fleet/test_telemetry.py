"""The telemetry model over simulated ticks: normal bands, each fault's signature, recovery."""

from __future__ import annotations

import pytest

from healops.fleet.definition import load_definition
from healops.fleet.telemetry import benign_deploy_at, diurnal, fleet_tick, in_benign_spike
from tests.unit.fleet.sim import TICK_SECONDS, Sim

DAY = 1440


def error_lines(tick, service: str) -> list[dict]:
    return [r for r in tick[service].logs if r["level"] == "ERROR"]


def test_same_inputs_give_the_same_metrics_and_logs():
    a, b = Sim(), Sim()
    assert [t["checkout"].metrics for t in a.run(5)] == [t["checkout"].metrics for t in b.run(5)]
    assert Sim().step()["edge"].logs == Sim().step()["edge"].logs


def test_a_different_seed_gives_different_noise():
    assert Sim(seed=1).step()["edge"].metrics != Sim(seed=2).step()["edge"].metrics


def test_fault_free_fleet_stays_inside_its_normal_bands_for_two_days():
    sim = Sim(tick=29_000_000)
    rows = sim.run(2 * DAY)
    for name, state in sim.states.items():
        base = state.spec.baseline
        series = [r[name] for r in rows]
        assert max(t.metrics["ErrorRate"] for t in series) < 3.0, name
        assert max(t.metrics["MemoryUtilization"] for t in series) < 85.0, name
        assert max(t.metrics["DiskUtilization"] for t in series) < 80.0, name
        assert max(t.metrics["LatencyP99"] for t in series) < 4 * base.latency_p99_ms, name
        assert min(t.metrics["Heartbeat"] for t in series) == state.replicas, name
        assert {t.health for t in series} <= {"healthy", "degraded"}, name
        # Bounded logs: a couple of request samples and at most one background warning per tick.
        assert max(len(t.logs) for t in series) <= 4, name


def test_normal_band_has_daily_seasonality_benign_spikes_and_deploys_that_fool_a_naive_threshold():
    sim = Sim(tick=29_000_000)
    rows = sim.run(2 * DAY)
    requests = [r["edge"].metrics["RequestCount"] for r in rows]
    # 15:00 vs 03:00 simulated UTC: the daily cycle is plain in the traffic.
    assert requests[15 * 60] > 1.6 * requests[3 * 60]
    assert diurnal(15 * 60, TICK_SECONDS) > 1.3 > 0.7 > diurnal(3 * 60, TICK_SECONDS)
    names = list(sim.states)
    ticks = range(29_000_000, 29_000_000 + 2 * DAY)
    spikes = [(n, t) for n in names for t in ticks if in_benign_spike(7, n, t)]
    assert spikes, "two simulated days should hold benign bursts"
    # A naive "CPU above 1.6 x baseline" rule fires on the fault-free fleet.
    naive_alarms = [
        (n, i)
        for i, r in enumerate(rows)
        for n in names
        if r[n].metrics["CPUUtilization"] > 1.6 * sim.states[n].spec.baseline.cpu_pct
    ]
    assert naive_alarms
    many = [n for n in names for t in range(29_000_000, 29_000_000 + 20 * DAY) if benign_deploy_at(7, n, t)]
    assert many, "twenty simulated days should hold a benign deploy"


def test_a_benign_deploy_changes_the_version_without_errors():
    sim = Sim(tick=29_000_000)
    name, tick = next(
        (n, t) for t in range(29_000_000, 29_000_000 + 40 * DAY) for n in sim.states if benign_deploy_at(7, n, t)
    )
    sim.tick = tick
    row = sim.step()[name]
    assert row.deployed_version and row.deployed_version != sim.states[name].version
    assert any(r.get("event") == "deploy" for r in row.logs)
    assert row.metrics["ErrorRate"] < 3.0


def test_cpu_saturation_pegs_cpu_and_times_out_until_enough_replicas_absorb_it():
    sim = Sim()
    sim.inject("search", "cpu_saturation", load_multiplier=4.0)
    first = sim.step()["search"]
    assert first.metrics["CPUUtilization"] == 100.0
    assert first.metrics["ErrorRate"] > 5.0
    assert first.metrics["LatencyP99"] > 5 * sim.states["search"].spec.baseline.latency_p99_ms
    assert "TimeoutError" in error_lines({"search": first}, "search")[0]["exception"]["type"]
    sim.act("search", "scale_out", replicas=3 * sim.states["search"].replicas)
    after = sim.step()["search"]
    assert after.metrics["CPUUtilization"] < 70.0
    assert after.metrics["ErrorRate"] < 3.0


def test_throttle_relieves_cpu_saturation_without_ending_it():
    sim = Sim()
    sim.inject("search", "cpu_saturation", load_multiplier=2.5)
    before = sim.step()["search"].metrics
    assert sim.act("search", "throttle", percent=60) == []
    after = sim.step()["search"].metrics
    assert after["CPUUtilization"] < before["CPUUtilization"] - 20
    assert after["RequestCount"] < 0.6 * before["RequestCount"]


def test_cpu_spike_adds_cpu_for_its_duration_then_ends_by_itself():
    sim = Sim()
    base = sim.step()["auth"].metrics["CPUUtilization"]
    sim.inject("auth", "cpu_spike", duration_ticks=5, extra_cpu_pct=50)
    during = [r["auth"].metrics["CPUUtilization"] for r in sim.run(5)]
    assert min(during) > base + 35
    assert sim.step()["auth"].metrics["CPUUtilization"] < base + 10


def test_scale_out_ends_a_cpu_spike():
    sim = Sim()
    sim.inject("auth", "cpu_spike", extra_cpu_pct=50)
    assert sim.act("auth", "scale_out") == ["cpu_spike"]
    assert sim.step()["auth"].metrics["CPUUtilization"] < 50


def test_memory_leak_grows_to_oom_then_loops_and_restart_only_resets_it():
    sim = Sim()
    sim.inject("payments", "memory_leak", leak_mb_per_tick=100)
    rows = [r["payments"] for r in sim.run(30)]
    memory = [t.metrics["MemoryUtilization"] for t in rows]
    assert memory[5] > memory[0] + 20  # grows tick after tick
    kills = [i for i, t in enumerate(rows) if any(r.get("event") == "oom_kill" for r in t.logs)]
    assert len(kills) >= 2, "the OOM kill repeats: a crash-restart loop"
    assert all(rows[i].metrics["ErrorRate"] > 20 and rows[i].metrics["Heartbeat"] < 3 for i in kills)
    assert memory[kills[0] + 1] < memory[kills[0] - 1] - 30  # the restart frees the memory
    # A restart frees the accumulated memory, but the leak goes on.
    assert sim.act("payments", "restart") == []
    fresh = sim.run(6)
    assert fresh[0]["payments"].metrics["MemoryUtilization"] < 60
    assert fresh[5]["payments"].metrics["MemoryUtilization"] > fresh[0]["payments"].metrics["MemoryUtilization"] + 20
    # Raising the limit delays the next OOM; a rollback removes the leak.
    sim.act("payments", "raise_memory_limit", factor=4)
    assert sim.states["payments"].memory_limit_mb == 4 * 2048
    sim.states["payments"] = sim.states["payments"].model_copy(update={"previous_version": "v5.2.0"})
    assert sim.act("payments", "rollback") == ["memory_leak"]
    steady = [r["payments"].metrics["MemoryUtilization"] for r in sim.run(10)]
    assert max(steady) - min(steady) < 3


def test_raise_memory_limit_delays_the_oom_kill():
    def first_kill(factor: float | None) -> int:
        sim = Sim()
        sim.inject("payments", "memory_leak", leak_mb_per_tick=100)
        if factor:
            sim.act("payments", "raise_memory_limit", factor=factor)
        rows = sim.run(60)
        return next(i for i, r in enumerate(rows) if any(x.get("event") == "oom_kill" for x in r["payments"].logs))

    assert first_kill(2.0) > first_kill(None) + 15


def test_disk_fills_at_its_rate_then_writes_fail_until_clear_disk():
    sim = Sim()
    sim.inject("search", "disk_exhaustion", fill_pct_per_tick=5)
    rows = [r["search"] for r in sim.run(10)]
    disk = [t.metrics["DiskUtilization"] for t in rows]
    assert disk[1] - disk[0] == pytest.approx(5, abs=0.3)
    assert disk[-1] == 100.0
    assert rows[-1].metrics["ErrorRate"] > 30
    assert "No space left on device" in error_lines({"search": rows[-1]}, "search")[0]["exception"]["message"]
    assert sim.act("search", "clear_disk") == ["disk_exhaustion"]
    after = sim.step()["search"]
    assert after.metrics["DiskUtilization"] < 65 and after.metrics["ErrorRate"] < 3


def test_service_crash_stops_the_heartbeat_and_fails_callers_until_restart():
    sim = Sim()
    sim.inject("inventory", "service_crash")
    row = sim.step()
    assert row["inventory"].metrics["Heartbeat"] == 0 and row["inventory"].metrics["ErrorRate"] == 100
    assert row["inventory"].health == "down"
    assert any(r.get("event") == "crash" for r in row["inventory"].logs)
    # checkout and search call inventory directly; edge calls them: weaker with distance.
    assert row["checkout"].metrics["ErrorRate"] > 30 and row["search"].metrics["ErrorRate"] > 30
    assert 10 < row["edge"].metrics["ErrorRate"] < row["checkout"].metrics["ErrorRate"]
    assert "inventory" in error_lines(row, "checkout")[0]["exception"]["message"]
    assert sim.act("inventory", "restart") == ["service_crash"]
    after = sim.step()
    assert after["inventory"].metrics["Heartbeat"] == 2 and after["checkout"].metrics["ErrorRate"] < 3


def test_failover_also_ends_a_service_crash():
    sim = Sim()
    sim.inject("auth", "service_crash")
    assert sim.act("auth", "failover") == ["service_crash"]


def test_network_latency_adds_latency_here_and_less_at_each_caller_until_failover():
    sim = Sim()
    base = sim.step()
    sim.inject("payments", "network_latency", added_ms=800)
    row = sim.step()
    assert row["payments"].metrics["LatencyP50"] > base["payments"].metrics["LatencyP50"] + 700
    checkout_added = row["checkout"].metrics["LatencyP50"] - base["checkout"].metrics["LatencyP50"]
    edge_added = row["edge"].metrics["LatencyP50"] - base["edge"].metrics["LatencyP50"]
    assert 300 < checkout_added < 500 and 100 < edge_added < checkout_added
    assert sim.act("payments", "failover") == ["network_latency"]
    assert sim.step()["payments"].metrics["LatencyP50"] < base["payments"].metrics["LatencyP50"] * 1.5


def test_error_storm_logs_exception_traces_and_restart_ends_it():
    sim = Sim()
    sim.inject("checkout", "error_storm", error_pct=40)
    row = sim.step()
    assert 35 < row["checkout"].metrics["ErrorRate"] < 50
    lines = error_lines(row, "checkout")
    assert len(lines) == 12  # bounded; the rest are counted
    assert lines[-1]["similar_errors_not_logged"] > 0
    assert lines[0]["exception"]["stacktrace"].startswith("Traceback (most recent call last):")
    assert sim.act("checkout", "restart") == ["error_storm"]
    assert sim.step()["checkout"].metrics["ErrorRate"] < 3


def test_bad_deploy_survives_a_restart_and_rollback_fixes_it():
    sim = Sim()
    sim.inject("checkout", "bad_deploy", error_pct=30)
    bad_version = sim.states["checkout"].version
    row = sim.step()["checkout"]
    assert row.metrics["ErrorRate"] > 25 and row.version == bad_version != "v2.8.0"
    assert error_lines({"checkout": row}, "checkout")[0]["version"] == bad_version
    assert sim.act("checkout", "restart") == []
    assert sim.step()["checkout"].metrics["ErrorRate"] > 25
    assert sim.act("checkout", "rollback") == ["bad_deploy"]
    assert sim.states["checkout"].version == "v2.8.0"
    assert sim.step()["checkout"].metrics["ErrorRate"] < 3


def test_dependency_failure_spreads_up_the_graph_weaker_with_distance_until_failover():
    sim = Sim()
    sim.inject("ledger-db", "dependency_failure", severity_pct=80, decay=0.5)
    row = sim.step()
    ledger, payments, checkout, edge = (
        row[n].metrics["ErrorRate"] for n in ("ledger-db", "payments", "checkout", "edge")
    )
    assert ledger > 75 and 35 < payments < 45 and 15 < checkout < 25 and 5 < edge < 15
    assert row["auth"].metrics["ErrorRate"] < 3  # not on a path to ledger-db
    assert "OperationalError" in error_lines(row, "ledger-db")[0]["exception"]["type"]
    assert sim.act("ledger-db", "failover") == ["dependency_failure"]
    after = sim.step()
    assert max(after[n].metrics["ErrorRate"] for n in ("ledger-db", "payments", "checkout", "edge")) < 3


def test_generated_copies_get_telemetry_from_their_own_graph():
    sim = Sim(size=24)
    sim.inject("ledger-db-1", "service_crash")
    row = sim.step()
    assert row["payments-1"].metrics["ErrorRate"] > 30
    assert row["payments"].metrics["ErrorRate"] < 3 and row["payments-2"].metrics["ErrorRate"] < 3


def test_fleet_tick_covers_every_service_with_eight_metrics():
    definition = load_definition()
    sim = Sim(size=1000)
    ticks = fleet_tick(sim.states.values(), 1, 5, TICK_SECONDS)
    assert len(ticks) == 1000 and len(definition.services) == 8
    assert all(len(t.metrics) == 8 for t in ticks)
