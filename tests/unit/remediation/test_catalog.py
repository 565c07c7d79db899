"""The action catalog: typed entries, schemas the reasoner accepts, preconditions and validation."""

from __future__ import annotations

import jsonschema
import pytest

from healops.fleet.adapter import FLEET_ACTIONS, ServiceView
from healops.llm.providers.offline import PLAYBOOK, fill_parameters
from healops.remediation.catalog import (
    CATALOG,
    InvalidProposalError,
    catalog_specs,
    validate_proposal,
    view_before,
)
from healops.remediation.guard import BlastRadius
from healops.remediation.verification import band


def view(**changes: object) -> ServiceView:
    base = dict(
        service="checkout",
        tier="app",
        depends_on=(),
        replicas=3,
        version="v2",
        previous_version=None,
        cpu_cores=2.0,
        memory_limit_mb=2048,
        disk_gb=30.0,
        throttle_pct=0.0,
        record_version=1,
    )
    return ServiceView(**{**base, **changes})  # type: ignore[arg-type]


def test_catalog_has_the_nine_actions_and_each_maps_to_a_fleet_action_or_none() -> None:
    assert set(CATALOG) == {
        "restart_service",
        "scale_out",
        "scale_in",
        "rollback_deploy",
        "clear_disk",
        "raise_memory_limit",
        "failover",
        "throttle_traffic",
        "no_op_observe",
    }
    for entry in CATALOG.values():
        assert entry.fleet_action is None or entry.fleet_action in FLEET_ACTIONS
        assert all(band(m) for m in entry.verification.metrics)
    assert CATALOG["no_op_observe"].blast_radius is BlastRadius.NONE
    assert CATALOG["failover"].blast_radius is BlastRadius.HIGH


def test_every_playbook_action_is_in_the_catalog_and_fillable_from_its_schema() -> None:
    specs = {s.name: s for s in catalog_specs()}
    for actions in PLAYBOOK.values():
        for name in actions:
            filled = fill_parameters(specs[name].parameters_schema)
            assert filled is not None
            jsonschema.validate(filled, specs[name].parameters_schema)
            validate_proposal(name, "checkout", filled)


def test_unknown_action_and_bad_parameters_are_refused_with_what_is_accepted() -> None:
    with pytest.raises(InvalidProposalError, match="accepted: restart_service"):
        validate_proposal("reboot_everything", "checkout", {})
    with pytest.raises(InvalidProposalError, match="percent"):
        validate_proposal("throttle_traffic", "checkout", {"percent": 99})
    with pytest.raises(InvalidProposalError, match="force: Extra inputs"):
        validate_proposal("restart_service", "checkout", {"force": True})


def test_schema_forbids_extra_parameters_for_the_reasoner() -> None:
    schema = CATALOG["scale_out"].parameters_schema()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"replicas": 2, "rm": "-rf"}, schema)


def test_preconditions_name_what_is_missing() -> None:
    rollback = validate_proposal("rollback_deploy", "checkout", {})
    assert "no previous version" in rollback.entry.unmet_preconditions(view(), rollback.params)[0]
    assert rollback.entry.unmet_preconditions(view(previous_version="v1"), rollback.params) == []
    scale_in = validate_proposal("scale_in", "checkout", {"replicas": 3})
    assert scale_in.entry.unmet_preconditions(view(replicas=3), scale_in.params)


def test_compensations_restore_what_the_action_changed_and_only_that() -> None:
    throttle, scale_out, scale_in = (CATALOG[n].compensation for n in ("throttle_traffic", "scale_out", "scale_in"))
    assert throttle is not None and scale_out is not None and scale_in is not None
    before = view_before(view(replicas=3, throttle_pct=0.0))
    assert (throttle.fleet_action, throttle.params(before, view(throttle_pct=40.0))) == ("throttle", {"percent": 0.0})
    assert (scale_out.fleet_action, scale_out.params(before, view(replicas=8))) == ("scale_in", {"replicas": 5})
    assert (scale_in.fleet_action, scale_in.params(before, view(replicas=2))) == ("scale_out", {"replicas": 1})
    # nothing changed (the act never happened, or someone already put it back): nothing to undo
    assert throttle.params(before, view()) is None and scale_out.params(before, view(replicas=3)) is None
    assert CATALOG["restart_service"].compensation is None and CATALOG["rollback_deploy"].compensation is None


def test_no_op_observe_watches_for_the_ticks_it_was_given_before_verifying() -> None:
    default = validate_proposal("no_op_observe", "checkout", {})
    longer = validate_proposal("no_op_observe", "checkout", {"ticks": 7})
    base = default.entry.verification
    assert default.entry.verification_for(default.params) == base
    rule = longer.entry.verification_for(longer.params)
    # Verification starts after the 7 watched ticks and keeps its window after them as long as the default's.
    assert rule.settle_ticks == 7 and rule.within_ticks - rule.settle_ticks == base.within_ticks - base.settle_ticks
    assert rule.metrics == base.metrics and rule.stable_ticks == base.stable_ticks
    # Entries without parameters that shape verification keep their rule.
    restart = validate_proposal("restart_service", "checkout", {})
    assert restart.entry.verification_for(restart.params) is restart.entry.verification
