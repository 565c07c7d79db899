"""Someone is told: the deployed stack's notifier tells the session's stub Slack, PagerDuty and webhook receivers
(tests/e2e/conftest.py deploys the stack with their URLs, key and secret, through Terraform's write-only SSM
parameters).

One incident on a service no other e2e file touches: a bad deploy whose rollback the allow-list forbids, so the
remediation escalates. Slack answers the incident's first message 500 (retried, then delivered); the webhook
stays down for it (recorded as failed, shown on the dashboard's incident page) while its signature still
verifies; PagerDuty is paged on the escalation and resolved, same dedup key, once the fault is cleared and the
detector sees the service quiet. The loop closes all the same. The secrets are nowhere they must not be: the
Terraform state and variables file, the tables, the functions' logs.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healops.deploy.stack import StackInfo, StackOptions
from healops.notify.sinks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_webhook
from tests.e2e.conftest import PAGERDUTY_ROUTING_KEY, SLACK_TOKEN, WEBHOOK_SECRET, WEBHOOK_TOKEN
from tests.e2e.stack_calls import tables
from tests.e2e.test_remediation import clear, detected, execution, inject, policy
from tests.helpers import wait_for
from tests.notify_support import Stub

# No e2e file before this one touches it or its dependencies (ledger-db, auth); its callers' symptoms link.
SERVICE = "payments"
SECRETS = (SLACK_TOKEN, PAGERDUTY_ROUTING_KEY, WEBHOOK_TOKEN, WEBHOOK_SECRET)


def deliveries(aws: Any, stack: StackInfo, incident_id: str) -> list[dict[str, Any]]:
    from healops.store.notifications import NotificationsRepository

    records, _ = NotificationsRepository(tables(stack)["notifications"], aws("dynamodb")).for_incident(incident_id)
    return [r.model_dump() for r in records]


def fail_first(marker: bytes, status: int) -> Callable[[bytes], int | None]:
    """A receiver rule: the first request whose body holds ``marker`` is answered ``status``."""
    failed: list[bytes] = []

    def rule(body: bytes) -> int | None:
        if marker in body and not failed:
            failed.append(body)
            return status
        return None

    return rule


def test_an_escalation_reaches_slack_pagerduty_and_the_webhook_and_its_resolution_resolves_the_page(
    stack: StackInfo, stack_options: StackOptions, aws: Any, sink_stubs: dict[str, Stub]
) -> None:
    slack, pagerduty, webhook = sink_stubs["slack"], sink_stubs["pagerduty"], sink_stubs["webhook"]
    since = datetime.now(UTC).isoformat()
    # Rules by the service (its incident's id is not known before the detector opens it): Slack's headline and
    # the webhook's JSON name it.
    slack.rules.append(fail_first(f"[Heal-Ops] {SERVICE}:".encode(), 500))
    webhook.rules.append(lambda body: 503 if f'"service":"{SERVICE}"'.encode() in body else None)
    try:
        with policy(aws, allowed_actions={"*": ["restart_service", "throttle_traffic", "no_op_observe"]}):
            inject(aws, SERVICE, "bad_deploy")
            incident_id = wait_for(lambda: detected(aws, stack, SERVICE, since), timeout=90, interval=0.5)
            final = wait_for(
                lambda: (d := execution(aws, stack, incident_id)) and d["status"] != "RUNNING" and d, timeout=150
            )
        assert final["status"] == "FAILED" and final["error"] == "Remediation.Escalated"

        # PagerDuty: a trigger keyed by the incident, with what was tried and the dashboard link.
        trigger = wait_for(lambda: [json.loads(r["body"]) for r in pagerduty.about(incident_id)], timeout=60)[0]
        assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == incident_id
        assert trigger["routing_key"] == PAGERDUTY_ROUTING_KEY
        assert trigger["links"][0]["href"] == f"http://dashboard.e2e.invalid/incidents/{incident_id}"
        assert "rollback_deploy" in " ".join(trigger["payload"]["custom_details"]["tried"])

        # Slack: the escalation among the incident's messages, after one 500 answered and retried.
        def slack_escalation() -> dict[str, Any] | None:
            bodies = [json.loads(r["body"]) for r in slack.about(incident_id)]
            return next((b for b in bodies if "needs a human" in b["text"]), None)

        message = wait_for(slack_escalation, timeout=60)
        assert f"{SERVICE}: needs a human ({incident_id})" in message["text"]
        records = wait_for(lambda: deliveries(aws, stack, incident_id), timeout=30)
        slack_records = [r for r in records if r["sink"] == "slack"]
        assert {r["status"] for r in slack_records} == {"delivered"}
        assert sorted(r["attempts"] for r in slack_records)[-1] == 2  # the one answered 500 first, retried once

        # The webhook stayed down: every try recorded as failed, and each request signed verifiably.
        failed = wait_for(
            lambda: [r for r in deliveries(aws, stack, incident_id) if r["sink"] == "webhook"], timeout=30
        )
        assert {r["status"] for r in failed} == {"failed"} and failed[0]["attempts"] == 3
        assert failed[0]["error"] == "webhook: HTTP 503"
        for request in webhook.about(incident_id):
            headers = request["headers"]
            assert headers[SIGNATURE_HEADER] == sign_webhook(WEBHOOK_SECRET, headers[TIMESTAMP_HEADER], request["body"])
        assert all(WEBHOOK_TOKEN in r["path"] for r in webhook.about(incident_id))

        # The dashboard's incident page shows the failed delivery.
        with urllib.request.urlopen(f"{stack.dashboard_url}incidents/{incident_id}", timeout=30) as response:
            page = response.read().decode()
        assert 'id="incident-notifications"' in page and "delivery-failed" in page and "webhook: HTTP 503" in page
    finally:
        clear(aws, SERVICE)
        slack.rules.clear()
        webhook.rules.clear()

    # The service recovers: the detector resolves the escalated incident and PagerDuty's page is resolved.
    def resolved() -> list[dict[str, Any]]:
        return [b for r in pagerduty.about(incident_id) if (b := json.loads(r["body"]))["event_action"] == "resolve"]

    resolve = wait_for(resolved, timeout=120, interval=0.5, what="PagerDuty's resolve")[0]
    assert resolve["dedup_key"] == incident_id and resolve["routing_key"] == PAGERDUTY_ROUTING_KEY
    record = aws("dynamodb").get_item(TableName=tables(stack)["incidents"], Key={"incident_id": {"S": incident_id}})
    assert record["Item"]["status"]["S"] == "resolved" and record["Item"]["escalated_at"]

    secrets_are_nowhere_they_must_not_be(stack, stack_options, aws)


def secrets_are_nowhere_they_must_not_be(stack: StackInfo, stack_options: StackOptions, aws: Any) -> None:
    # Terraform wrote them to SSM as SecureStrings under the stack's key ...
    ssm = aws("ssm")
    parameters = ssm.get_parameters_by_path(Path="/healops/notify", WithDecryption=False)["Parameters"]
    assert {p["Name"].rsplit("/", 1)[-1]: p["Type"] for p in parameters} == {
        "slack_webhook_url": "SecureString",
        "pagerduty_routing_key": "SecureString",
        "webhook_url": "SecureString",
        "webhook_secret": "SecureString",
    }
    key = ssm.get_parameter(Name="/healops/notify/webhook_secret", WithDecryption=True)["Parameter"]["Value"]
    assert key == WEBHOOK_SECRET
    # ... and never into its state or its variables file (write-only attributes; TF_VAR_ only).
    work_dir = Path(stack_options.state_dir) / "terraform"
    for path in [work_dir / "terraform.tfstate", *work_dir.glob("*.tfvars.json")]:
        text = path.read_text()
        assert not [s for s in SECRETS if s in text], path
    # Nor into the tables or the functions' logs.
    ddb = aws("dynamodb")
    for table in tables(stack).values():
        items = json.dumps(ddb.scan(TableName=table).get("Items", []))
        assert not [s for s in SECRETS if s in items], table
    logs = aws("logs")
    for group in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]:
        events = logs.filter_log_events(logGroupName=group["logGroupName"]).get("events", [])
        text = "\n".join(e["message"] for e in events)
        assert not [s for s in SECRETS if s in text], group["logGroupName"]
