"""The chaos rule's input transformer, as Terraform writes it, renders a request the injector accepts."""

from __future__ import annotations

import json

from healops.local.events.payload import render_target_input
from healops.models.injector import InjectorRequest
from tests.unit.test_terraform import locals_of

SCHEDULED_EVENT = {
    "version": "0",
    "id": "5b4d9c7e-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-25T01:02:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/healops-chaos"],
    "detail": {},
}


def test_chaos_target_input_is_a_valid_chaos_request_carrying_the_firing_time() -> None:
    transformer = locals_of("schedules.tf")["rule_input_transformers"]["chaos-injector"]
    template = transformer["input_template"].replace("${var.chaos_rate}", "0.25")
    target = {"InputTransformer": {"InputPathsMap": transformer["input_paths"], "InputTemplate": template}}
    rendered = render_target_input(
        target,
        SCHEDULED_EVENT,
        rule_arn=SCHEDULED_EVENT["resources"][0],
        rule_name="healops-chaos",
        ingestion_time=SCHEDULED_EVENT["time"],
    )
    request = InjectorRequest.model_validate(json.loads(rendered))
    assert request.action == "chaos"
    assert request.rate == 0.25
    assert request.requested_by == "chaos"
    assert request.time is not None and request.time.isoformat().startswith("2026-11-25T01:02:00")
