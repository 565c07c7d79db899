from __future__ import annotations

import pytest

from healops.cli import build_parser
from healops.cli.inject import build_payload, parse_param


def payload(*argv: str) -> dict:
    return build_payload(build_parser().parse_args(["inject", *argv]), "cli:test")


def test_inject_with_params_and_duration():
    assert payload("checkout", "memory_leak", "--param", "leak_mb_per_tick=120", "--duration", "600") == {
        "action": "inject",
        "service": "checkout",
        "fault": "memory_leak",
        "params": {"leak_mb_per_tick": 120},
        "requested_by": "cli:test",
        "duration_s": 600,
    }


def test_param_values_are_json_when_they_parse_and_text_otherwise():
    assert parse_param("version=v9.9.9") == ("version", "v9.9.9")
    assert parse_param("decay=0.3") == ("decay", 0.3)
    with pytest.raises(ValueError, match="--param: expected K=V"):
        parse_param("decay")


def test_a_string_parameter_of_the_fault_keeps_the_text_as_typed():
    # The injector types params strictly: "version=2" must reach it as the text "2", not the number 2.
    assert parse_param("version=2", "bad_deploy") == ("version", "2")
    assert parse_param('version="3.1"', "bad_deploy") == ("version", "3.1")
    assert parse_param("error_pct=40", "bad_deploy") == ("error_pct", 40)
    # A number-typed parameter gets what JSON says; a wrong type is the injector's to refuse, by name.
    assert parse_param("error_pct=true", "error_storm") == ("error_pct", True)
    assert payload("payments", "bad_deploy", "--param", "version=2")["params"] == {"version": "2"}


def test_clear_list_and_status_forms():
    assert payload("--clear", "checkout") == {"action": "clear", "service": "checkout", "requested_by": "cli:test"}
    assert payload("--clear", "checkout", "bad_deploy")["fault"] == "bad_deploy"
    assert payload("--list") == {"action": "list"}
    assert payload("--status") == {"action": "status"}
    assert payload("--status", "auth") == {"action": "status", "service": "auth"}


def test_missing_arguments_say_what_is_needed():
    with pytest.raises(ValueError, match="FAULT is required"):
        payload("checkout")
    with pytest.raises(ValueError, match="SERVICE is required"):
        payload("--clear")
