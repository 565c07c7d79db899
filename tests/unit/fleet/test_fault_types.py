"""The fault types and the typed vocabulary: one enum of kinds, one type per fault, stored strings unchanged."""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

import pytest

from healops.fleet.actions import ENDED_BY, apply_action
from healops.fleet.faults import FAULTS, FaultKind, FaultType, UnknownFaultError, conflicting, fault_type
from healops.fleet.simulator import Simulator
from healops.models.incident import Severity
from healops.models.remediation import AttemptOutcome, GuardDecision, Route

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ["edge", "checkout", "payments", "ledger-db", "inventory", "search", "auth", "notifications"]
# An action after twenty ticks of each fault: one that ends it, or one that only eases it (the throttle).
ACTION_AFTER = {
    "memory_leak": "restart",
    "bad_deploy": "rollback",
    "disk_exhaustion": "clear_disk",
    "service_crash": "failover",
    "cpu_spike": "scale_out",
    "cpu_saturation": "throttle",
    "network_latency": "failover",
    "error_storm": "restart",
    "dependency_failure": "failover",
}
# The digest of telemetry_under_every_fault() as the if-chains of service_tick computed it before the fault
# types took over: the refactor changed no metric, no log line, no random draw.
PINNED_TELEMETRY_DIGEST = "399bb45f17a13468eaa32fa96ed7df03e353e070306f78584f9d6a1aea4a1c10"


def telemetry_under_every_fault() -> str:
    """Every fault, alone and with a second one, by day and by night, then an action: a digest of every tick."""
    digest = hashlib.sha256()
    names = sorted(FAULTS)
    for i, fault in enumerate(names):
        for start in (600, 1400):  # simulated 10:00 and 23:20
            sim = Simulator(8, 11 + i, start)
            service = SERVICES[(i + start) % 8]
            sim.inject(service, fault, duration_ticks=25 if i % 2 else None)
            sim.inject(SERVICES[(i + 3) % 8], names[(i + 4) % 9])
            rows = sim.run(20)
            sim.act(service, ACTION_AFTER[fault])
            rows += sim.run(10)
            for row in rows:
                for name in sorted(row):
                    t = row[name]
                    fields = [t.service, t.tick, t.version, t.health, t.metrics, t.logs, t.deployed_version]
                    digest.update(json.dumps(fields, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def test_the_fault_types_render_every_tick_exactly_as_before() -> None:
    assert telemetry_under_every_fault() == PINNED_TELEMETRY_DIGEST


def test_every_kind_has_one_type_and_the_stored_names_are_unchanged() -> None:
    assert [str(kind) for kind in FAULTS] == [
        "cpu_saturation",
        "cpu_spike",
        "memory_leak",
        "disk_exhaustion",
        "service_crash",
        "network_latency",
        "error_storm",
        "bad_deploy",
        "dependency_failure",
    ]
    assert set(FAULTS) == set(FaultKind)
    for kind, fault in FAULTS.items():
        assert isinstance(fault, FaultType) and fault.kind is kind and fault.name == kind
        assert fault_type(str(kind)) is fault
        assert json.dumps({kind: kind}) == json.dumps({str(kind): str(kind)})  # wire formats stay strings


def test_an_unknown_fault_is_named_with_the_accepted_ones() -> None:
    with pytest.raises(UnknownFaultError, match=r"'cpu_melt'; accepted: bad_deploy, cpu_saturation"):
        fault_type("cpu_melt")


def test_what_ends_a_fault_is_on_its_type_and_the_actions_follow() -> None:
    assert ENDED_BY["restart"] == {"service_crash", "error_storm"}
    assert ENDED_BY["failover"] == {"dependency_failure", "network_latency", "service_crash"}
    assert ENDED_BY["throttle"] == frozenset()
    for kind, fault in FAULTS.items():
        for action in fault.ended_by:
            assert action in fault.fixed_by, f"{kind}: {action} takes it off the state but is not in fixed_by"


def test_a_restart_moves_only_an_accumulating_faults_anchor() -> None:
    sim = Simulator(8, 3, 600)
    sim.inject("auth", "memory_leak")
    sim.inject("auth", "disk_exhaustion")
    sim.run(5)
    state, _ = apply_action(sim.states["auth"], "restart", None, sim.tick, "")
    anchors = {f.fault: f.anchor_tick for f in state.faults}
    assert anchors == {"memory_leak": sim.tick, "disk_exhaustion": 600}


def test_conflicts_come_from_the_types() -> None:
    assert conflicting("bad_deploy", ["bad_deploy", "error_storm"]) == ["bad_deploy"]
    assert conflicting("error_storm", ["bad_deploy"]) == []


def test_the_vocabulary_keeps_its_stored_strings() -> None:
    assert [str(s) for s in Severity] == ["low", "medium", "high", "critical"]
    assert [str(d) for d in GuardDecision] == ["allow", "needs_approval", "deny"]
    assert {str(o) for o in AttemptOutcome} >= {"started", "acted", "verified", "not_recovered", "refused", "denied"}
    assert json.dumps({"severity": Severity.HIGH}) == '{"severity": "high"}'


def test_every_route_the_state_machine_follows_is_a_route() -> None:
    asl = (ROOT / "terraform" / "orchestration.tf").read_text()
    followed = set(re.findall(r'Variable = "\$\.run\.route", StringEquals = "(\w+)"', asl))
    assert followed and followed <= {str(r) for r in Route}


# Where a fault kind's name is another vocabulary's word: the detector's "error_storm" signal (a burst of error
# lines, whatever the cause), an incident kind of the dashboard bench, the synthetic rows of the GSI bench.
OTHER_VOCABULARIES = {
    ("healops/detection/signals.py", "error_storm"),
    ("healops/detection/service.py", "error_storm"),
    ("healops/bench/llm_stub.py", "error_storm"),
    ("healops/bench/dashboard.py", "error_storm"),
    ("healops/bench/gsi.py", "error_storm"),
    ("healops/bench/gsi.py", "memory_leak"),
}


def test_no_module_but_the_catalog_spells_a_fault_kind_as_a_bare_string() -> None:
    """A fault's name written out elsewhere is a place a new fault would have to be added by hand: FaultKind."""
    kinds = {str(kind) for kind in FaultKind}
    spelled = []
    for path in sorted((ROOT / "healops").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "healops/fleet/faults.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if (
                isinstance(node, ast.Constant)
                and node.value in kinds
                and (relative, node.value) not in OTHER_VOCABULARIES
            ):
                spelled.append(f"{relative}:{node.lineno} {node.value!r}")
    assert spelled == []
