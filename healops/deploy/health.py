"""Is a deployed stack healthy? The endpoint answers, every function is active, the loop is wired."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from healops import aws


@dataclass
class HealthReport:
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


# The embedded cloud's health route, then LocalStack's.
HEALTH_PATHS = ("/_healops/health", "/_localstack/health")


def endpoint_answers(endpoint_url: str) -> bool:
    for path in HEALTH_PATHS:
        try:
            with urllib.request.urlopen(f"{endpoint_url}{path}", timeout=3) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            continue
    return False


def lambda_invocations(endpoint_url: str) -> dict[str, dict[str, Any]] | None:
    """The embedded runtime's per-function record of last invocations; None on other endpoints."""
    try:
        with urllib.request.urlopen(f"{endpoint_url}/_healops/lambda/invocations", timeout=3) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError):
        return None


def check(endpoint_url: str, outputs: dict[str, Any]) -> HealthReport:
    report = HealthReport()
    if not endpoint_answers(endpoint_url):
        report.problems.append(f"the endpoint {endpoint_url} does not answer")
        return report
    lam = aws.client("lambda", endpoint_url=endpoint_url)
    for key, name in sorted((outputs.get("lambda_function_names") or {}).items()):
        try:
            state = lam.get_function(FunctionName=name)["Configuration"].get("State", "Active")
        except lam.exceptions.ResourceNotFoundException:
            report.problems.append(f"function {key} ({name}) is not deployed")
            continue
        if state != "Active":
            report.problems.append(f"function {key} ({name}) is {state}, not Active")
    queue_arn = outputs.get("sqs_incidents_queue_arn")
    if queue_arn:
        mappings = lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]
        if not any(m.get("State") == "Enabled" for m in mappings):
            report.problems.append("the incidents queue has no enabled event source mapping")
    events = aws.client("events", endpoint_url=endpoint_url)
    for key, rule in sorted((outputs.get("eventbridge_rule_names") or {}).items()):
        if key == "chaos":
            continue  # disabled unless chaos_enabled: its state is a choice, not health
        if events.describe_rule(Name=rule).get("State") != "ENABLED":
            report.problems.append(f"EventBridge rule {rule} is not ENABLED")
    return report
