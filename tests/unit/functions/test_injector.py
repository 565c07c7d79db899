from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from healops.deploy.tables import create_tables
from healops.fleet.definition import load_definition
from tests.unit.fleet.conftest import table_items
from tests.unit.functions.conftest import load_handler

injector = load_handler("injector")


@pytest.fixture
def tables(monkeypatch):
    monkeypatch.setenv("HEALOPS_FLEET_TABLE", "fleet")
    monkeypatch.setenv("HEALOPS_INJECTIONS_TABLE", "injections")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, ["fleet", "injections"])
        definition = json.loads(json.dumps(load_definition().model_dump(mode="json")))
        injector.handler({"action": "seed", "definition": definition, "fleet_size": 8}, None)
        yield dynamodb


def test_list_answers_the_actions_the_fault_catalog_and_the_services(tables):
    listed = injector.handler({"action": "list"}, None)
    assert listed["actions"] == ["inject", "clear", "list", "status", "chaos", "seed"]
    assert "memory_leak" in listed["faults"] and "checkout" in listed["services"]


def test_unknown_action_names_the_field_and_the_accepted_values():
    with pytest.raises(injector.InvalidInjectorRequestError) as raised:
        injector.handler({"action": "explode"}, None)
    message = str(raised.value)
    assert "action" in message
    assert "'inject', 'clear', 'list', 'status', 'chaos' or 'seed'" in message
    assert "'explode'" in message


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "action"), ({"action": "inject", "sevice": "checkout"}, "sevice"), ("inject", "whole payload")],
)
def test_malformed_payloads_name_what_is_wrong(payload, field):
    with pytest.raises(injector.InvalidInjectorRequestError, match=field):
        injector.handler(payload, None)


def test_inject_then_status_then_clear_through_the_handler(tables):
    injected = injector.handler(
        {"action": "inject", "service": "search", "fault": "network_latency", "params": {"added_ms": 900}}, None
    )["injected"]
    status = injector.handler({"action": "status", "service": "search"}, None)
    assert status["active_faults"][0]["injection_id"] == injected["injection_id"]
    cleared = injector.handler({"action": "clear", "service": "search"}, None)
    assert cleared["cleared"][0]["fault"] == "network_latency"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"action": "inject", "service": "ghost", "fault": "error_storm"}, "service: 'ghost' is not in the fleet"),
        ({"action": "inject", "service": "auth", "fault": "gremlins"}, "fault: unknown fault 'gremlins'"),
        (
            {"action": "inject", "service": "auth", "fault": "cpu_spike", "params": {"extra_cpu_pct": 99}},
            "params of cpu_spike: extra_cpu_pct: Input should be less than or equal to 70",
        ),
        ({"action": "inject", "service": "auth", "fault": "cpu_spike", "duration_s": "soon"}, "duration_s"),
    ],
)
def test_refusals_are_function_errors_that_change_nothing(tables, payload, message):
    before = table_items(tables, "fleet"), table_items(tables, "injections")
    with pytest.raises(injector.InvalidInjectorRequestError, match=message):
        injector.handler(payload, None)
    assert (table_items(tables, "fleet"), table_items(tables, "injections")) == before
