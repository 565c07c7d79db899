"""The chaos bench's scoring: pure functions on recorded injections, incidents and attempts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from healops.bench.chaos import GOALS, meets, only, plan_waves
from healops.bench.chaos_plots import plot_distributions, plot_nab_scoreboard, plot_timeline, plot_ttr_per_fault
from healops.bench.chaos_scoring import (
    Injected,
    Opened,
    ScenarioRun,
    Tried,
    aggregate,
    callers_closure,
    exhaustion_at,
    percentile,
    score_scenario,
)

GRAPH = {"edge": ["checkout"], "checkout": ["payments"], "payments": ["ledger-db"], "ledger-db": [], "auth": []}
T0 = 1_000_000.0


def injected(service: str = "payments", fault: str = "error_storm", **fields: object) -> Injected:
    defaults: dict[str, object] = {
        "injection_id": f"inj-{service}",
        "service": service,
        "fault": fault,
        "injected_at": T0,
        "fixed_by": ("restart_service",),
        "status": "fixed",
        "ended_at": T0 + 20,
        "ended_by": "action:restart_service",
    }
    return Injected(**{**defaults, **fields})  # type: ignore[arg-type]


def run_of(*injections: Injected, category: str = "fault", end: float = T0 + 100) -> ScenarioRun:
    services = [i.service for i in injections]
    return ScenarioRun("s", category, T0 - 1, end, tuple(injections), callers_closure(services, GRAPH))  # type: ignore[arg-type]


def opened(service: str, at: float, incident_id: str = "inc-1", **fields: object) -> Opened:
    return Opened(
        incident_id=incident_id, service=service, kind="error_rate", opened_at=at, status="resolved", **fields
    )  # type: ignore[arg-type]


def tried(service: str, action: str, at: float, verification: str = "recovered", incident_id: str = "inc-1") -> Tried:
    return Tried(incident_id, service, action, at, at + 5, verification, "verified")


def test_callers_closure_reaches_every_caller_up_the_graph_and_nothing_else() -> None:
    assert callers_closure(["payments"], GRAPH) == {"payments", "checkout", "edge"}
    assert callers_closure(["auth"], GRAPH) == {"auth"}


def test_an_incident_rooted_at_the_faulted_service_is_detected_localized_and_timed_in_ticks() -> None:
    result = score_scenario(
        run_of(injected()),
        [opened("payments", T0 + 3)],
        [tried("payments", "restart_service", T0 + 10)],
        {"inc-1": (1, 0)},
        tick_s=1.0,
    )
    assert (result.detected, result.root_right, result.fixed_verified) == (True, True, True)
    assert result.ttd_ticks == 3 and result.ttr_ticks == 12  # opened at +3, verified at +15
    assert result.actions_tried == ["restart_service@payments:recovered"] and result.actions_on_healthy == []
    assert result.llm_calls == 1


def test_an_incident_rooted_at_a_caller_detects_the_fault_but_does_not_localize_it() -> None:
    result = score_scenario(run_of(injected()), [opened("checkout", T0 + 2)], [], {}, tick_s=1.0)
    assert result.detected is True and result.root_right is False


def test_an_action_on_a_caller_is_a_remediation_of_a_healthy_service() -> None:
    attempts = [tried("checkout", "restart_service", T0 + 5, "not_recovered"), tried("payments", "failover", T0 + 9)]
    result = score_scenario(run_of(injected()), [opened("checkout", T0 + 2)], attempts, {}, tick_s=1.0)
    assert result.actions_on_healthy == ["restart_service@checkout"]


def test_an_attempt_on_a_caller_that_never_acted_is_no_remediation_of_it() -> None:
    # The guard at act refused it (the caller's incident was merged into its dependency's), or a precondition failed.
    attempts = [
        replace(tried("checkout", "restart_service", T0 + 5, "pending"), outcome="refused_at_act"),
        replace(tried("checkout", "rollback_deploy", T0 + 6, "pending"), outcome="skipped"),
        replace(tried("checkout", "failover", T0 + 7, "pending"), outcome="interrupted"),
    ]
    result = score_scenario(run_of(injected()), [opened("checkout", T0 + 2)], attempts, {}, tick_s=1.0)
    assert result.actions_on_healthy == ["failover@checkout"]  # interrupted: it may have acted


def test_a_fault_the_bench_cleared_is_not_fixed_even_with_a_verified_attempt() -> None:
    result = score_scenario(
        run_of(injected(status="cleared", ended_by="bench-chaos")),
        [opened("payments", T0 + 3)],
        [tried("payments", "restart_service", T0 + 10)],
        {},
        tick_s=1.0,
    )
    assert result.detected and result.fixed_verified is False and result.ttr_ticks is None


def test_incidents_outside_the_window_or_the_scope_are_not_the_scenarios() -> None:
    run = run_of(injected())
    late = opened("payments", T0 + 500, "late")
    elsewhere = opened("auth", T0 + 3, "elsewhere")
    before = opened("payments", T0 - 50, "before")
    result = score_scenario(run, [late, elsewhere, before], [], {}, tick_s=1.0)
    assert result.detected is False and result.incidents == []


def test_the_prediction_lead_is_the_ticks_from_the_incident_to_the_exhaustion() -> None:
    leak = injected("auth", "memory_leak", exhaustion_at=T0 + 40)
    result = score_scenario(run_of(leak), [opened("auth", T0 + 12)], [], {}, tick_s=2.0)
    assert result.prediction_lead_ticks == 14  # (40 - 12) s at 2 s a tick


def test_exhaustion_extends_the_rise_of_the_samples_and_none_without_a_rise() -> None:
    assert exhaustion_at([(0.0, 40.0), (10.0, 50.0), (20.0, 60.0)]) == 60.0
    assert exhaustion_at([(0.0, 40.0), (10.0, 40.0)]) is None
    assert exhaustion_at([(0.0, 40.0)]) is None


def test_aggregates_count_control_incidents_as_false_and_control_actions_as_false_remediations() -> None:
    fault_run = run_of(injected())
    control = ScenarioRun("control", "control", T0 - 1, T0 + 100, (), frozenset({"auth"}))
    incidents = [opened("payments", T0 + 3), opened("auth", T0 + 30, "inc-ctl")]
    attempts = [
        tried("payments", "restart_service", T0 + 10),
        tried("auth", "scale_out", T0 + 40, "recovered", "inc-ctl"),
    ]
    runs = [fault_run, control]
    results = [score_scenario(r, incidents, attempts, {}, tick_s=1.0) for r in runs]
    agg = aggregate(results, incidents, runs, control_hours=2.0)
    assert (agg.detection_recall, agg.detection_precision, agg.localization_accuracy) == (1.0, 0.5, 1.0)
    assert agg.mitigation_success_rate == 1.0 and agg.control_incidents == 1
    assert agg.false_remediations == 1 and agg.false_remediations_per_control_hour == 0.5
    assert agg.mttd_ticks_p50 == 3 and agg.mttd_step_ticks_max == 3 and agg.mttr_ticks_p50 == 12


def test_a_missed_fault_lowers_recall_and_mitigation() -> None:
    runs = [run_of(injected()), run_of(injected("auth", status="cleared"))]
    incidents = [opened("payments", T0 + 3)]
    attempts = [tried("payments", "restart_service", T0 + 10)]
    results = [score_scenario(r, incidents, attempts, {}, tick_s=1.0) for r in runs]
    agg = aggregate(results, incidents, runs, control_hours=0.0)
    assert agg.detection_recall == 0.5 and agg.mitigation_success_rate == 0.5
    assert agg.false_remediations_per_control_hour is None


def test_percentile_is_nearest_rank_and_none_for_nothing() -> None:
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0 and percentile([], 0.5) is None


def test_goals_compare_both_ways_and_say_nothing_of_a_missing_figure() -> None:
    assert meets(1.0, GOALS["detection_recall"][1]) and not meets(0.9, GOALS["detection_recall"][1])
    assert meets(2.0, GOALS["mttd_step_ticks_max"][1]) and not meets(3.0, GOALS["mttd_step_ticks_max"][1])
    assert meets(None, GOALS["false_remediations"][1]) is None


def test_the_plan_is_seeded_and_the_full_set_puts_every_fault_on_three_services() -> None:
    assert plan_waves(7, quick=False) == plan_waves(7, quick=False)
    full = [s for wave in plan_waves(7, quick=False) for s in wave]
    singles = [s.faults[0] for s in full if s.category in ("fault", "cascade")]
    by_fault: dict[str, set[str]] = {}
    for f in singles:
        by_fault.setdefault(f.fault, set()).add(f.service)
    assert len(by_fault) == 9 and all(len(services) == 3 for services in by_fault.values())
    assert {s.condition for s in full} >= {
        "llm_down",
        "llm_slow",
        "llm_garbage",
        "poison_message",
        "detector_crash",
        "remediator_timeout",
        "queue_delayed",
    }
    # Heal-Ops' own faults first: the poison message has the whole run to reach the dead-letter queue.
    assert any(s.condition == "poison_message" for s in plan_waves(7, quick=False)[0])
    assert any(len(s.faults) == 2 for s in full)
    # At most one scenario per fault copy (5) in a wave; a wave-wide condition runs alone.
    assert all(len(wave) <= 5 for wave in plan_waves(7, quick=False))
    assert all(len(w) == 1 for w in plan_waves(7, quick=False) if w[0].condition in ("detector_crash", "queue_delayed"))


def test_only_keeps_the_named_scenarios_packed_and_names_the_accepted_ones_for_an_unknown_one() -> None:
    waves = plan_waves(7, quick=True, fault_copies=2)
    chosen = only(waves, {"remediator_timeout:checkout", "llm_down:notifications", "queue_delayed:checkout"}, 2)
    assert [[s.name for s in w] for w in chosen] == [
        ["llm_down:notifications", "remediator_timeout:checkout"],
        ["queue_delayed:checkout"],
    ]
    with pytest.raises(ValueError, match=r"unknown scenario\(s\): nope:edge; accepted: llm_down:notifications"):
        only(waves, {"nope:edge"}, 2)


def test_a_miss_says_why_from_the_records() -> None:
    result = score_scenario(
        run_of(injected(status="cleared", ended_by="bench-chaos")),
        [opened("payments", T0 + 3)],
        [Tried("inc-1", "payments", "restart_service", T0 + 10, T0 + 40, "not_recovered", "not_recovered", "no data")],
        {},
        tick_s=1.0,
    )
    assert result.injection_ends == ["error_storm@payments: cleared (bench-chaos)"]
    assert result.not_recovered_because == ["restart_service@payments: no data"]


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    run = run_of(injected())
    result = score_scenario(run, [opened("payments", T0 + 3)], [tried("payments", "restart_service", T0 + 10)], {}, 1.0)
    samples = {"payments": [(T0 + k, 1.0 if k < 12 else 0.2) for k in range(20)]}
    timeline = plot_timeline(tmp_path, "error_storm:payments", samples, result, [opened("payments", T0 + 3)], [], 1.0)
    dist = plot_distributions(tmp_path / "d.png", [1.0, 2.0], [10.0])
    for path in (timeline, dist):
        assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_docs_plots_are_written_as_png(tmp_path: Path) -> None:
    scenarios = [{"faults": ["error_storm"], "condition": None, "ttd_ticks": 1.0, "ttr_ticks": 8.0}]
    per_fault = plot_ttr_per_fault(tmp_path / "f.png", scenarios)
    nab = plot_nab_scoreboard(
        tmp_path / "n.png", {"ours": {"standard": 75.5}}, {"ARTime": {"standard": 74.9}, "null": {"standard": 0.0}}
    )
    for path in (per_fault, nab):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
