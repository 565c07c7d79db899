"""The planner function's handler: the Plan state's task in, the run out; it never writes the incident."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.unit.functions.conftest import load_handler
from tests.unit.llm.deployed import MotoStack, error_signals

planner = load_handler("planner")


def test_plan_task_with_a_malformed_incident_is_refused(event):
    task = event("planner_plan_task")
    task = {"step": "plan", "state": {"incident": {**task["incident"], "incident_id": "no spaces allowed"}}}
    with pytest.raises(ValidationError, match="incident_id"):
        planner.handler(task, None)


@pytest.mark.parametrize("task", [{"step": "guard", "state": {}}, {"Records": []}, {"step": "plan"}])
def test_anything_but_the_plan_task_is_refused(task):
    with pytest.raises(ValueError, match="Plan state's task"):
        planner.handler(task, None)


def test_the_plan_step_plans_offline_and_records_no_incident(moto_stack: MotoStack) -> None:
    recorded = moto_stack.open_incident("inc-planner-1", "checkout", "error_rate", error_signals("checkout"))
    # An incident nobody recorded: the planner plans from the message alone and leaves the table to the remediator.
    unrecorded = recorded.model_copy(update={"incident_id": "inc-planner-2"})
    planner.engine.cache_clear()
    try:
        for incident in (recorded, unrecorded):
            run = planner.handler({"step": "plan", "state": {"incident": incident.model_dump(mode="json")}}, None)
            assert run["planner"] == "offline:rules-v1" and run["candidates"], run
            assert run["route"] == "guard"
        assert planner.engine().incidents.get("inc-planner-2") is None
    finally:
        planner.engine.cache_clear()
