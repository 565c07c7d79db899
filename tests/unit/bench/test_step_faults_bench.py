"""``healops bench step-faults``: its classification of cases, on real runs of the detector over the model."""

from __future__ import annotations

from healops.bench.prediction import ReadOptions
from healops.bench.step_faults import STEP_FAULTS, Case, run_case
from healops.fleet.faults import FAULTS
from healops.fleet.simulator import MORNING_TICK
from tests.unit.fleet.sim import NIGHT_TICK


def test_every_fault_but_the_slow_fills_is_a_step_fault() -> None:
    assert set(STEP_FAULTS) == set(FAULTS) - {"memory_leak", "disk_exhaustion"}


def test_a_crash_is_detected_on_the_injection_tick_or_the_next_when_every_tick_is_read() -> None:
    case = run_case("service_crash", "search", MORNING_TICK, warmup=60, seed=7, read=ReadOptions(1))
    assert case.outcome == "detected" and case.opened_after is not None and case.opened_after <= 1
    assert case.kind is not None  # the lead signal names it (a crash: the errors come first)


def test_reading_every_10_ticks_a_crash_is_opened_by_its_error_rate_alarm_and_latency_by_the_next_read() -> None:
    crash = run_case("service_crash", "search", MORNING_TICK, warmup=60, seed=7, read=ReadOptions(10))
    assert (crash.opened_after, crash.kind) == (2, "alarm")  # 3 breaching points: on the third tick
    quiet = run_case("service_crash", "search", MORNING_TICK, warmup=60, seed=7, read=ReadOptions(10, alarms=False))
    latency = run_case("network_latency", "search", MORNING_TICK, warmup=60, seed=7, read=ReadOptions(10))
    for case in (quiet, latency):  # at the first read after the fault: within the read period
        assert case.opened_after is not None and case.opened_after < 10 and case.kind != "alarm"


def test_a_surge_a_quiet_service_takes_with_room_to_spare_is_missed() -> None:
    # 03:20: notifications takes four times its traffic at under 50% CPU, and nothing opens.
    case = run_case("cpu_saturation", "notifications", NIGHT_TICK, warmup=60, seed=7, read=ReadOptions(1))
    assert (case.outcome, case.hour) == ("missed", 3)


def test_late_and_missed_cases_are_told_apart() -> None:
    late = Case("cpu_spike", "notifications", MORNING_TICK, opened_after=4, kind="cpu_per_request")
    missed = Case("cpu_saturation", "notifications", MORNING_TICK, opened_after=None, kind=None)
    assert (late.outcome, missed.outcome) == ("late", "missed")
