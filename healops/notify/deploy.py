"""The notifier's sinks as Terraform variables, for ``healops up`` (terraform/notify.tf).

``terraform_variables_from_env`` maps ``HEALOPS_NOTIFY_*`` in the environment ``healops up`` runs in to the
``notify_*`` variables. :data:`SECRET_VARIABLES` are passed to the tflocal process as ``TF_VAR_<name>``
environment variables only, never written to a file or printed; Terraform writes them to SSM write-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Environment variable -> Terraform variable.
ENV_VARIABLES: dict[str, str] = {
    "HEALOPS_NOTIFY_SLACK_WEBHOOK_URL": "notify_slack_webhook_url",
    "HEALOPS_NOTIFY_PAGERDUTY_ROUTING_KEY": "notify_pagerduty_routing_key",
    "HEALOPS_NOTIFY_PAGERDUTY_EVENTS_URL": "notify_pagerduty_events_url",
    "HEALOPS_NOTIFY_WEBHOOK_URL": "notify_webhook_url",
    "HEALOPS_NOTIFY_WEBHOOK_SECRET": "notify_webhook_secret",
    "HEALOPS_NOTIFY_EMAILS": "notify_emails",
    "HEALOPS_NOTIFY_DASHBOARD_URL": "notify_dashboard_url",
}
SECRET_VARIABLES = frozenset(
    {"notify_slack_webhook_url", "notify_pagerduty_routing_key", "notify_webhook_url", "notify_webhook_secret"}
)


def terraform_variables_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The terraform/notify.tf variables ``environ`` sets (unset and empty ones left out); the e-mail addresses
    are comma-separated."""
    found: dict[str, Any] = {}
    for env_name, variable in ENV_VARIABLES.items():
        value = environ.get(env_name, "").strip()
        if not value:
            continue
        found[variable] = [a.strip() for a in value.split(",") if a.strip()] if variable == "notify_emails" else value
    return found


def split_secrets(variables: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(plain variables, secret variables)."""
    plain = {k: v for k, v in variables.items() if k not in SECRET_VARIABLES}
    secret = {k: str(v) for k, v in variables.items() if k in SECRET_VARIABLES}
    return plain, secret
