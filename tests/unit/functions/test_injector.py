from __future__ import annotations

import pytest

from tests.unit.functions.conftest import load_handler

injector = load_handler("injector")


def test_list_answers_the_supported_actions():
    assert injector.handler({"action": "list"}, None) == {"actions": ["inject", "clear", "list", "status", "chaos"]}


def test_unknown_action_names_the_field_and_the_accepted_values():
    with pytest.raises(injector.InvalidInjectorRequestError) as raised:
        injector.handler({"action": "explode"}, None)
    message = str(raised.value)
    assert "action" in message
    assert "'inject', 'clear', 'list', 'status' or 'chaos'" in message
    assert "'explode'" in message


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "action"), ({"action": "inject", "sevice": "checkout"}, "sevice"), ("inject", "whole payload")],
)
def test_malformed_payloads_name_what_is_wrong(payload, field):
    with pytest.raises(injector.InvalidInjectorRequestError, match=field):
        injector.handler(payload, None)


@pytest.mark.parametrize("action", ["inject", "clear", "status", "chaos"])
def test_fleet_actions_fail_until_the_fleet_exists(action):
    with pytest.raises(injector.FaultInjectionUnavailableError, match="the fleet is not deployed"):
        injector.handler({"action": action, "service": "checkout"}, None)
