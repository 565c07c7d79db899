"""What a target receives: the event, or Input / InputPath / InputTransformer applied to it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from healops.local.events.delivery import delivered_event, json_document
from healops.local.events.payload import InputTransformError, event_time_iso, render_target_input

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2025-03-14T12:34:56Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "cpu": 97.5, "tags": {"team": "pay"}},
}
RULE = {"rule_arn": "arn:aws:events:us-east-1:123456789012:rule/r1", "rule_name": "r1"}


def render(target: dict[str, Any]) -> str:
    return render_target_input(target, EVENT, ingestion_time="2025-03-14T12:34:57Z", **RULE)


def transformer(template: str, paths: dict[str, str] | None = None) -> dict[str, Any]:
    return {"InputTransformer": {"InputPathsMap": paths or {}, "InputTemplate": template}}


PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "cpu": "$.detail.cpu"}


def test_without_input_settings_the_whole_event_is_delivered() -> None:
    assert json.loads(render({"Id": "t", "Arn": "arn"})) == EVENT


def test_constant_input_replaces_the_event() -> None:
    assert render({"Input": '{"action": "tick", "n": 1}'}) == '{"action": "tick", "n": 1}'


def test_input_path_selects_part_of_the_event() -> None:
    assert json.loads(render({"InputPath": "$.detail"})) == EVENT["detail"]
    assert json.loads(render({"InputPath": "$.detail.state"})) == "RUNNING"


def test_input_path_that_selects_nothing_gives_null() -> None:
    assert render({"InputPath": "$.detail.missing"}) == "null"


def test_transformer_inserts_json_values_outside_quotes() -> None:
    # AWS's documented example: a string outside quotes becomes a quoted JSON string.
    text = render(transformer('{"instance" : <instance>, "state": [9, <state>, true], "cpu": <cpu>}', PATHS))
    assert json.loads(text) == {"instance": "i-0123456789", "state": [9, "RUNNING", True], "cpu": 97.5}


def test_transformer_inserts_string_content_inside_quotes() -> None:
    text = render(transformer('"instance <instance> is in <state> at <cpu>%"', PATHS))
    assert json.loads(text) == "instance i-0123456789 is in RUNNING at 97.5%"


def test_transformer_escapes_values_inside_quotes() -> None:
    event = {**EVENT, "detail": {"msg": 'disk "full" \\ now'}}
    text = render_target_input(
        transformer('{"m": "<msg>"}', {"msg": "$.detail.msg"}), event, ingestion_time="x", **RULE
    )
    assert json.loads(text) == {"m": 'disk "full" \\ now'}


def test_transformer_object_value_inside_quotes_becomes_its_json_text() -> None:
    text = render(transformer('{"tags": "<tags>"}', {"tags": "$.detail.tags"}))
    assert json.loads(text) == {"tags": '{"team": "pay"}'}


def test_plain_text_template_takes_values_raw() -> None:
    assert render(transformer("<instance> is in state <state>", PATHS)) == "i-0123456789 is in state RUNNING"


def test_missing_path_gives_null_outside_quotes_and_empty_inside() -> None:
    text = render(transformer('{"a": <gone>, "b": "x<gone>y"}', {"gone": "$.detail.nope"}))
    assert json.loads(text) == {"a": None, "b": "xy"}


def test_predefined_aws_events_placeholders() -> None:
    text = render(
        transformer(
            '{"arn": "<aws.events.rule-arn>", "name": <aws.events.rule-name>, '
            '"at": "<aws.events.event.ingestion-time>", "head": <aws.events.event>, '
            '"whole": <aws.events.event.json>}'
        )
    )
    head = {key: value for key, value in EVENT.items() if key != "detail"}
    assert json.loads(text) == {
        "arn": RULE["rule_arn"],
        "name": "r1",
        "at": "2025-03-14T12:34:57Z",
        "head": head,
        "whole": EVENT,
    }


def test_unknown_placeholders_stay_as_written() -> None:
    assert render(transformer('"<not-mapped> <state>"', PATHS)) == '"<not-mapped> RUNNING"'


def test_bad_json_path_is_an_input_transform_error_naming_the_setting() -> None:
    with pytest.raises(InputTransformError) as caught:
        render(transformer('{"a": <x>}', {"x": "$..[["}))
    assert "InputPathsMap['x']" in str(caught.value)
    with pytest.raises(InputTransformError, match="InputPath"):
        render({"InputPath": "$[?("})


def test_transformer_without_template_is_an_error() -> None:
    with pytest.raises(InputTransformError, match="InputTemplate is required"):
        render({"InputTransformer": {"InputPathsMap": {}}})


def test_event_time_becomes_iso_8601_z_and_moto_internals_are_dropped() -> None:
    assert event_time_iso(0) == "1970-01-01T00:00:00Z"
    assert event_time_iso(1741955696.7) == "2025-03-14T12:34:56Z"
    assert event_time_iso("2025-03-14T12:34:56Z") == "2025-03-14T12:34:56Z"
    shaped = delivered_event({**EVENT, "time": 1741955696.0, "ingestion-time": 1741955697.0})
    assert shaped == EVENT


def test_non_json_text_is_wrapped_as_a_json_string_for_lambda_and_step_functions() -> None:
    assert json_document('{"a": 1}') == '{"a": 1}'
    assert json_document("i-1 is down") == '"i-1 is down"'
