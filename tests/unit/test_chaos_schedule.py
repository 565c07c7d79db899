"""The chaos schedule as Terraform writes it: DISABLED unless ``chaos_enabled``, and its input
transformer renders a request the injector accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from healops.local.events.payload import render_target_input
from healops.models.injector import InjectorRequest
from tests.unit.terraform_console import terraform_console
from tests.unit.test_terraform import (
    _mirror_root,
    blocks,
    locals_of,
    needs_terraform,
)

# `cond ? "A" : "B"` on one variable, as schedules.tf writes the chaos rule's state.
CONDITIONAL = re.compile(r'^\$\{var\.(?P<var>\w+) \? "(?P<yes>[A-Z]+)" : "(?P<no>[A-Z]+)"\}$')

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


def chaos_state(chaos_enabled: bool) -> str:
    """The chaos rule's state for a value of its variable, evaluated from the HCL's conditional."""
    written = locals_of("schedules.tf")["rules"]["chaos"]["state"]
    parsed = CONDITIONAL.match(written)
    assert parsed, f"the chaos rule's state is no longer `var.chaos_enabled ? ... : ...`: {written}"
    assert parsed["var"] == "chaos_enabled"
    return parsed["yes"] if chaos_enabled else parsed["no"]


def test_chaos_rule_is_disabled_by_default_and_enabled_by_chaos_enabled() -> None:
    (default,) = [body["default"] for _, name, body in blocks("variable") if name == "chaos_enabled"]
    assert default is False
    assert chaos_state(default) == "DISABLED"
    assert chaos_state(True) == "ENABLED"
    # The rule resource takes its state from that map entry, and the chaos rule targets the injector.
    (rules,) = [body["this"] for _, kind, body in blocks("resource") if kind == "aws_cloudwatch_event_rule"]
    assert (rules["for_each"], rules["state"]) == ("${local.rules}", "${each.value.state}")
    assert locals_of("schedules.tf")["rule_targets"]["chaos-injector"]["function"] == "injector"


@needs_terraform
@pytest.mark.skipif(_mirror_root() is None, reason="no provider mirror under /opt (offline init impossible)")
def test_terraform_evaluates_the_chaos_rule_state_from_chaos_enabled(tmp_path: Path) -> None:
    # The same question to Terraform itself: `terraform console` on a copy of terraform/.
    evaluate = terraform_console(tmp_path)

    def evaluated(*variables: str) -> str:
        return evaluate('local.rules["chaos"].state', *variables)

    assert evaluated() == '"DISABLED"'
    assert evaluated("-var", "chaos_enabled=true") == '"ENABLED"'
