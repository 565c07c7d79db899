"""Sinks, each speaking its receiver's wire format over an injected HTTP poster (or SNS client).

A sink's ``send`` raises :class:`SinkError` on a failure, saying whether a retry may help
(``retryable``: a 429, a 5xx, a connection error) and never quoting the URL, key or secret it
holds: webhook URLs and routing keys are secrets (they come from SSM SecureStrings).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection
from typing import Any, Protocol

from healops.notify.models import Notification

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SIGNATURE_HEADER = "X-HealOps-Signature"
TIMESTAMP_HEADER = "X-HealOps-Timestamp"
HTTP_TIMEOUT_S = 5.0

# (url, body, headers) -> HTTP status; raises OSError when no answer came.
HttpPost = Callable[[str, bytes, dict[str, str]], int]


class SinkError(Exception):
    """A sink could not deliver; ``retryable`` when trying again later may succeed."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sink(Protocol):
    name: str

    def accepts(self, notification: Notification) -> bool: ...

    def send(self, notification: Notification) -> None: ...


def urllib_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST with the standard library; an HTTP error status is returned, not raised."""
    # urllib would also open file:// and ftp:// URLs: a sink's URL is configuration, but not trusted that far.
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise SinkError("sink URL: only https:// (or http:// for a local receiver) is accepted", retryable=False)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _deliver(post: HttpPost, sink: str, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        status = post(url, body, {"Content-Type": "application/json", **headers})
    except OSError as exc:
        # The exception's text may hold the URL (a secret for Slack): name only its type.
        raise SinkError(f"{sink}: no answer ({type(exc).__name__})", retryable=True) from None
    if not 200 <= status < 300:
        raise SinkError(f"{sink}: HTTP {status}", retryable=status == 429 or status >= 500)


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class SlackSink:
    """A Slack incoming webhook: ``{"text": ..., "blocks": [...]}``; every event."""

    name = "slack"

    def __init__(self, webhook_url: str, post: HttpPost = urllib_post) -> None:
        self._url = webhook_url
        self._post = post

    def __repr__(self) -> str:
        return "SlackSink(webhook_url=<secret>)"

    def accepts(self, notification: Notification) -> bool:
        return True

    def send(self, notification: Notification) -> None:
        fields = [f"*Service*\n{notification.service}", f"*Incident*\n{notification.incident_id}"]
        if notification.tried:
            # Slack refuses (400, not retried) a section field over 2,000 characters.
            fields.append(("*Tried*\n" + ", ".join(notification.tried))[:2000])
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": notification.headline[:150]}},
            {"type": "section", "text": {"type": "plain_text", "text": notification.summary}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        ]
        if notification.dashboard_url:
            link = f"<{notification.dashboard_url}|Open on the Heal-Ops dashboard>"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": link}})
        _deliver(self._post, self.name, self._url, _json({"text": notification.text(), "blocks": blocks}), {})


class PagerDutySink:
    """PagerDuty Events API v2: trigger on escalation, resolve on resolution, dedup key = incident id."""

    name = "pagerduty"
    ACTIONS = {"escalated": "trigger", "resolved": "resolve"}

    def __init__(self, routing_key: str, url: str = PAGERDUTY_EVENTS_URL, post: HttpPost = urllib_post) -> None:
        self._routing_key = routing_key
        self._url = url
        self._post = post

    def __repr__(self) -> str:
        return "PagerDutySink(routing_key=<secret>)"

    def accepts(self, notification: Notification) -> bool:
        return notification.event in self.ACTIONS

    def send(self, notification: Notification) -> None:
        action = self.ACTIONS[notification.event]
        event: dict[str, Any] = {
            "routing_key": self._routing_key,
            "event_action": action,
            "dedup_key": notification.incident_id,
        }
        if action == "trigger":
            event["payload"] = {
                "summary": notification.headline + ": " + notification.summary,
                "source": notification.service,
                "severity": "critical",
                "component": notification.service,
                "custom_details": {"tried": list(notification.tried), "incident_id": notification.incident_id},
            }
            if notification.dashboard_url:
                event["links"] = [{"href": notification.dashboard_url, "text": "Heal-Ops incident"}]
        _deliver(self._post, self.name, self._url, _json(event), {})


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``: the receiver recomputes it and checks the age."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookSink:
    """Any HTTP endpoint: the notification as JSON, signed with an HMAC header; every event."""

    name = "webhook"

    def __init__(
        self, url: str, secret: str, post: HttpPost = urllib_post, clock: Callable[[], float] = time.time
    ) -> None:
        if not secret:
            raise ValueError("webhook: a signing secret is required (the receiver checks X-HealOps-Signature)")
        self._url = url
        self._secret = secret
        self._post = post
        self._clock = clock

    def __repr__(self) -> str:
        return "WebhookSink(url=<secret>, secret=<secret>)"

    def accepts(self, notification: Notification) -> bool:
        return True

    def send(self, notification: Notification) -> None:
        body = _json(notification.model_dump(mode="json"))
        timestamp = str(int(self._clock()))
        headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign_webhook(self._secret, timestamp, body)}
        _deliver(self._post, self.name, self._url, body, headers)


class SnsEmailSink:
    """E-mail through an SNS topic with e-mail subscriptions (Terraform's notify_emails); every event."""

    name = "email"

    def __init__(self, topic_arn: str, sns: Any, events: Collection[str] | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns = sns
        # None: every event; the deployed notifier leaves out escalations (the state machine publishes them).
        self._events = frozenset(events) if events is not None else None

    def accepts(self, notification: Notification) -> bool:
        return self._events is None or notification.event in self._events

    def send(self, notification: Notification) -> None:
        try:
            self._sns.publish(
                TopicArn=self._topic_arn, Subject=notification.headline[:100], Message=notification.text()
            )
        except Exception as exc:  # botocore's ClientError and connection errors alike
            raise SinkError(f"{self.name}: SNS refused the publish ({type(exc).__name__})", retryable=True) from None
