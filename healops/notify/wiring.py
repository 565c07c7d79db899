"""The notifier's sinks, from the SSM parameters Terraform writes (terraform/notify.tf).

Under ``/<name_prefix>/notify/`` each sink's secrets are SecureStrings (written write-only, so never in the
Terraform state): ``slack_webhook_url``, ``pagerduty_routing_key``, ``webhook_url`` and ``webhook_secret``.
Only the sinks that are set exist as parameters; none at all means no HTTP sink. E-mail is the escalations
topic's e-mail subscriptions: the notifier publishes the events the state machine does not (it publishes
the escalation itself, with its full summary).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from healops.notify.sinks import (
    PAGERDUTY_EVENTS_URL,
    HttpPost,
    PagerDutySink,
    Sink,
    SlackSink,
    SnsEmailSink,
    WebhookSink,
    urllib_post,
)

logger = logging.getLogger(__name__)

PARAMETER_NAMES = ("slack_webhook_url", "pagerduty_routing_key", "webhook_url", "webhook_secret")
# The state machine's Notify state publishes escalations to the topic already.
EMAIL_EVENTS = frozenset({"approval_waiting", "action_taken", "verification_failed", "resolved"})


def read_parameters(ssm: Any, path: str) -> dict[str, str]:
    """``name -> value`` of the parameters under ``path`` (decrypted), by their last path segment."""
    found: dict[str, str] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Path": path, "WithDecryption": True, "Recursive": False}
        if token:
            kwargs["NextToken"] = token
        page = ssm.get_parameters_by_path(**kwargs)
        for parameter in page.get("Parameters", []):
            found[parameter["Name"].rsplit("/", 1)[-1]] = parameter["Value"]
        token = page.get("NextToken")
        if not token:
            return found


def build_sinks(
    parameters: Mapping[str, str],
    *,
    pagerduty_url: str = PAGERDUTY_EVENTS_URL,
    email_topic_arn: str | None = None,
    sns: Any = None,
    post: HttpPost = urllib_post,
) -> list[Sink]:
    """The sinks ``parameters`` configure, in a fixed order (Slack, PagerDuty, webhook, e-mail)."""
    sinks: list[Sink] = []
    if parameters.get("slack_webhook_url"):
        sinks.append(SlackSink(parameters["slack_webhook_url"], post=post))
    if parameters.get("pagerduty_routing_key"):
        sinks.append(PagerDutySink(parameters["pagerduty_routing_key"], url=pagerduty_url, post=post))
    url, secret = parameters.get("webhook_url"), parameters.get("webhook_secret")
    if url and secret:
        sinks.append(WebhookSink(url, secret, post=post))
    elif url or secret:
        # Terraform refuses one without the other; a parameter deleted by hand lands here.
        logger.warning("webhook sink skipped: webhook_url and webhook_secret are both needed, one is missing")
    if email_topic_arn and sns is not None:
        sinks.append(SnsEmailSink(email_topic_arn, sns, events=EMAIL_EVENTS))
    return sinks
