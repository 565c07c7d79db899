"""``healops bench chaos`` end to end on the session's deployed stack: one scenario (a crash on search-2, injected
through the injector Lambda) run, scored and written as the bench does, and the control copy (the named services)
watched for the whole run. The crash must score detected, rooted and fixed; the control no incident and no action;
report.json must carry the figures the results page quotes. (The scoring itself: tests/unit/bench.) The crash's
caller, edge-2, must draw no action (issue 25).

Under load: every wait is the bench's own poll with a deadline; a crash is detected from the heartbeat within a
tick or two, a restart verified within a few dozen simulated minutes (real seconds at this time scale).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healops.bench.chaos import ChaosRun, Fault, Scenario, score, write_report
from healops.deploy.stack import StackInfo
from tests.e2e.conftest import TEST_VARIABLES

# A crash on search-2 (its caller: edge-2). This module runs last on the session stack (tests/conftest.py): the
# crash's episode can stay open for minutes, and tests/e2e/test_llm_provider.py has the detector open a new incident
# on search-2.
SCENARIO = Scenario("service_crash:search", "fault", (Fault("search", "service_crash"),))
COPY = 2
WAVE_TIMEOUT_S = 100.0
# The figures issue 25 asks report.json for, by name.
REPORT_KEYS = {
    "detection_recall",
    "detection_precision",
    "localization_accuracy",
    "mitigation_success_rate",
    "false_remediations",
    "mttd_ticks_p50",
    "mttr_ticks_p50",
    "prediction_lead_ticks_min",
    "goals",
    "scenarios",
}


@pytest.fixture(scope="module")
def chaos_report(
    stack: StackInfo, aws: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Any], Path]]:
    """One wave of the bench (the crash), scored and written as ``healops bench chaos`` does."""
    out = tmp_path_factory.mktemp("chaos")
    begun = time.monotonic()
    chaos = ChaosRun(stack, TEST_VARIABLES["fleet_size"])
    chaos.run_wave([SCENARIO], [COPY], WAVE_TIMEOUT_S)
    chaos.finish()
    results, agg, _, incidents, attempts = score(chaos)
    meta: dict[str, Any] = {
        "started_at": "e2e",
        "commit": "e2e",
        "seed": 0,
        "quick": True,
        "time_scale": stack.time_scale,
        "fleet_size": TEST_VARIABLES["fleet_size"],
        "duration_s": round(time.monotonic() - begun, 1),
    }
    write_report(out, meta, results, agg, chaos, attempts, incidents)
    yield json.loads((out / "report.json").read_text()), out


def test_the_chaos_bench_scores_a_fixed_crash_and_a_quiet_control(chaos_report: tuple[dict[str, Any], Path]) -> None:
    report, out = chaos_report
    assert report.keys() >= REPORT_KEYS, f"missing: {REPORT_KEYS - report.keys()}"
    by_name = {s["name"]: s for s in report["scenarios"]}
    crash, control = by_name[SCENARIO.name], by_name["control:copy-0"]
    assert crash["services"] == ["search-2"]
    assert crash["detected"] and crash["root_right"], crash
    assert crash["fixed_verified"], crash
    assert any(a.startswith("restart_service@search-2:recovered") for a in crash["actions_tried"]), crash
    assert crash["ttd_ticks"] is not None and crash["ttr_ticks"] is not None
    # The control: the named services, fault-free for the whole run, opened nothing and drew no action.
    assert control["detected"] is None and control["incidents"] == [] and control["actions_on_healthy"] == [], control
    assert report["control_incidents"] == 0
    assert (report["detection_recall"], report["mitigation_success_rate"]) == (1.0, 1.0)
    assert (out / "plots" / "service_crash_search.png").stat().st_size > 0
    assert (out / "report.md").read_text().startswith("# Chaos benchmark")


# Both error-rate alarms (search-2's and its caller edge-2's) enter ALARM in the same tick and the alarm fast path
# correlates each alone: when edge-2's comes first it opens an incident of its own, which search-2's signals merge into
# search-2's (correlation rule 5); the act step then finds it merged and does not restart edge-2.
@pytest.mark.xfail(
    reason="open defect: the merge (correlation rule 5) does not always come before the caller's act; edge-2 was "
    "restarted in 1 of 2 full CI runs after dd1bb89 (docs/lab-notes.md)",
    strict=False,
)
def test_the_crash_draws_no_action_on_its_caller(chaos_report: tuple[dict[str, Any], Path]) -> None:
    report, _ = chaos_report
    acted_elsewhere = {s["name"]: s["actions_tried"] for s in report["scenarios"] if s["actions_on_healthy"]}
    assert report["false_remediations"] == 0, acted_elsewhere
