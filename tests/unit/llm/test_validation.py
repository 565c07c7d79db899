"""A model's answer: valid proposals over the real catalog (healops/remediation/catalog.py) pass; anything else
rejects the whole answer."""

from __future__ import annotations

import json

import pytest

from healops.bench.llm_stub import answer, sample_context
from healops.llm.exceptions import ResponseRejectedError
from healops.llm.redaction import Redactor
from healops.llm.validation import validate_answer

CONTEXT = sample_context("disk_exhaustion")


def validate(text: str):
    return validate_answer(text, CONTEXT, Redactor())


def test_a_valid_answer_becomes_a_plan_with_parsed_parameters_and_blast_radius() -> None:
    plan = validate(
        answer(
            [
                {"action": "clear_disk", "service": "checkout"},
                {"action": "scale_out", "service": "checkout", "parameters": {"replicas": 3}},
                {"action": "failover", "service": "checkout"},
            ],
            "disk_exhaustion",
            ["checkout"],
        )
    )
    assert [(a.action, a.parameters, a.blast_radius) for a in plan.actions] == [
        ("clear_disk", {}, "service"),
        ("scale_out", {"replicas": 3}, "service"),
        ("failover", {}, "dependents"),
    ]


def test_a_dependent_of_the_service_is_one_of_its_services_and_a_stranger_is_not() -> None:
    # checkout's graph holds its dependencies and its caller (edge), not the rest of the fleet; acting on edge
    # needs the detector to have linked it to checkout's incident.
    throttle_edge = answer([{"action": "throttle_traffic", "service": "edge"}])
    with pytest.raises(ResponseRejectedError, match="nor linked to it by the detector"):
        validate(throttle_edge)
    linked = CONTEXT.model_copy(update={"linked": ["edge"]})
    assert validate_answer(throttle_edge, linked, Redactor()).actions[0].service == "edge"
    with pytest.raises(ResponseRejectedError, match="not one of the incident's services"):
        validate(answer([{"action": "restart_service", "service": "notifications"}]))


def test_a_fenced_json_answer_is_accepted() -> None:
    text = "```json\n" + answer([{"action": "restart_service", "service": "checkout"}]) + "\n```"
    assert validate(text).actions[0].action == "restart_service"


@pytest.mark.parametrize(
    ("plan", "complaint"),
    [
        ([{"action": "run_shell", "service": "checkout", "parameters": {"command": "rm -rf /"}}], "not in the catalog"),
        ([{"action": "scale_in", "service": "checkout", "parameters": {"replicas": 0}}], "not valid under any"),
        ([{"action": "scale_in", "service": "checkout", "parameters": {"remove": 50}}], "Additional properties"),
        ([{"action": "throttle_traffic", "service": "checkout", "parameters": {"percent": 95}}], "maximum"),
        ([{"action": "raise_memory_limit", "service": "checkout", "parameters": {"factor": "lots"}}], "not of type"),
        ([{"action": "restart_service", "service": "mainframe"}], "not one of the incident's services"),
        ([{"action": "restart_service", "service": "checkout"}] * 6, "at most 5"),
    ],
)
def test_an_invalid_action_rejects_the_whole_answer(plan: list[dict], complaint: str) -> None:
    good = {"action": "restart_service", "service": "checkout"}
    with pytest.raises(ResponseRejectedError, match=complaint):
        validate(answer([good, *plan]))


@pytest.mark.parametrize(
    "text",
    ["not json at all", '{"diagnosis": {}', json.dumps({"plan": []}), json.dumps([1, 2])],
)
def test_malformed_answers_are_rejected(text: str) -> None:
    with pytest.raises(ResponseRejectedError):
        validate(text)


def test_parameters_that_are_not_a_json_object_are_rejected() -> None:
    text = json.loads(answer([{"action": "restart_service", "service": "checkout"}]))
    text["plan"][0]["parameters"] = "[1, 2]"
    with pytest.raises(ResponseRejectedError, match="JSON object"):
        validate(json.dumps(text))


def test_unknown_affected_services_are_rejected() -> None:
    with pytest.raises(ResponseRejectedError, match="affected_services"):
        validate(answer([], services=["checkout", "elsewhere"]))


def test_free_text_is_redacted() -> None:
    plan = validate(
        answer([{"action": "restart_service", "service": "checkout", "rationale": "key sk-abcdefghijklmnop1234"}])
    )
    assert "sk-abcdefghijklmnop1234" not in plan.actions[0].rationale
