"""terraform/notify.tf as Terraform itself evaluates it (``terraform console``): which secrets become SSM
parameters, and the variables' validations, each naming what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.terraform_console import terraform_console
from tests.unit.test_terraform import _mirror_root, needs_terraform


@needs_terraform
@pytest.mark.skipif(_mirror_root() is None, reason="no provider mirror under /opt (offline init impossible)")
def test_only_the_sinks_that_are_set_become_secret_parameters_and_bad_values_are_refused(tmp_path: Path) -> None:
    evaluate = terraform_console(tmp_path)
    chosen = "jsonencode(sort(local.notify_secrets_set))"
    assert evaluate(chosen) == '"[]"'
    set_two = evaluate(
        chosen,
        *("-var", "notify_slack_webhook_url=https://hooks.slack.com/services/T/B/x"),
        *("-var", "notify_pagerduty_routing_key=0123456789abcdef0123456789abcdef"),
    )
    assert set_two == '"[\\"pagerduty_routing_key\\",\\"slack_webhook_url\\"]"', set_two
    refusals = {
        "notify_webhook_url and notify_webhook_secret go together": ("-var", "notify_webhook_url=https://r.example/h"),
        "notify_webhook_secret must be empty or at least 16 characters": ("-var", "notify_webhook_secret=short"),
        "notify_slack_webhook_url must be empty or an https:// URL": ("-var", "notify_slack_webhook_url=file:///x"),
        "notify_emails must be e-mail addresses": ("-var", 'notify_emails=["oncall"]'),
    }
    for message, variable in refusals.items():
        with pytest.raises(AssertionError) as refused:
            evaluate(chosen, *variable)
        assert message in " ".join(str(refused.value).split()), str(refused.value)
