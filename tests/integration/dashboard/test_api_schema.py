"""Every /api/ route's real responses (real tables, CloudWatch, a real Step Functions task token) match the
response schema the OpenAPI document gives for that operation and status code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from healops.dashboard import create_app
from healops.dashboard.resources import StackResources
from healops.store.remediations import RemediationAttempt
from tests.dashboard_support import DashboardStack, ago, put_telemetry, seed_incident, seed_trace
from tests.integration.dashboard.conftest import TOKEN
from tests.integration.dashboard.test_approvals import pending  # noqa: F401  (the fixture: a real task token)

WRITE = {"Authorization": f"Bearer {TOKEN}"}


def response_errors(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> list[str]:
    """What in ``body`` breaks the schema ``document`` gives ``method path`` for ``status`` (empty: it matches)."""
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, which the document does not name"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    # The operation's schema as the root, with the document's components so its $refs resolve.
    validator = OAS31Validator({**schema, "components": document["components"]})
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    ]


class Checker:
    """Calls routes, validates each JSON body against its documented schema, remembers what was covered."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.covered: set[tuple[str, str, str]] = set()

    def __call__(self, response: Any, path: str, status: int, method: str = "get") -> Any:
        assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:500])
        assert response.mimetype == "application/json", (path, response.mimetype)
        body = response.get_json()
        errors = response_errors(self.document, path, method, status, body)
        assert not errors, f"{method.upper()} {path} {status} does not match its schema:\n" + "\n".join(errors)
        self.covered.add((path, method, str(status)))
        return body

    def documented(self) -> set[tuple[str, str, str]]:
        return {
            (path, method, status)
            for path, operations in self.document["paths"].items()
            for method, operation in operations.items()
            for status in operation["responses"]
        }


def seed_everything(stack: DashboardStack) -> None:
    """An incident with signals, a trace, an LLM call, attempts (one failed) and telemetry; a resolved and an
    escalated one; a dead letter and a guard policy (the ``pending`` fixture adds an approval to answer)."""
    seed_incident(
        stack,
        "inc-trace",
        service="checkout",
        status="remediating",
        severity="high",
        summary="ErrorRate 38% after deploy v2.4.1",
        signals=[{"metric": "ErrorRate", "score": 9.5, "onset_at": ago(12), "note": "3 periods over"}],
        linked_services=["payments"],
        evidence_key="evidence/inc-trace.json",
    )
    seed_trace(stack, "inc-trace")
    stack.resources.remediations.record(
        RemediationAttempt(
            incident_id="inc-trace",
            attempt_id="0002-restart",
            service="checkout",
            action="restart",
            planner="offline",
            guard_decision="allow",
            verification="not_recovered",
            outcome="failed",
            error="restart did not help",
            started_at=ago(3),
            ended_at=ago(2),
            view_before={"replicas": 3},
        )
    )
    put_telemetry(stack, "checkout", ["GET /cart 500", "GET /cart 200"])
    seed_incident(stack, "inc-done", service="search", status="resolved", opened_minutes_ago=40, resolved_at=ago(30))
    seed_incident(
        stack, "inc-esc", service="inventory", status="escalated", escalated_at=ago(1), escalation_reason="denied"
    )
    stack.client("sqs").send_message(QueueUrl=stack.resources.stack["incidents_dlq_url"], MessageBody="poison")
    stack.client("ssm").put_parameter(
        Name=f"/{stack.prefix}/remediation/policy", Type="String", Value=json.dumps({"breaker_failures": 1})
    )


@pytest.mark.usefixtures("pending")
def test_every_api_response_matches_the_openapi_document(stack: DashboardStack, client: Any) -> None:
    seed_everything(stack)
    check = Checker(client.get("/api/openapi.json").get_json())
    check(client.get("/api/openapi.json"), "/api/openapi.json", 200)

    overview = check(client.get("/api/overview"), "/api/overview", 200)
    assert overview["open_count"] == 3 and overview["dlq_depth"] == 1
    assert overview["guard"]["breakers_open"] == ["checkout"]  # a failed attempt, breaker_failures 1

    incidents = "/api/incidents"
    first = check(client.get(incidents, query_string={"limit": 2}), incidents, 200)
    assert len(first["items"]) == 2 and first["next_token"]
    rest = check(client.get(incidents, query_string={"limit": 50, "page_token": first["next_token"]}), incidents, 200)
    assert len(first["items"]) + len(rest["items"]) == 4 and rest["next_token"] is None
    by_service = check(
        client.get(incidents, query_string={"service": "checkout", "status": "remediating"}), incidents, 200
    )
    assert [i["incident_id"] for i in by_service["items"]] == ["inc-trace"]
    check(client.get(incidents, query_string={"status": "sleeping"}), incidents, 400)
    check(client.get(incidents, query_string={"page_token": "bm90IGpzb24"}), incidents, 400)

    one = "/api/incidents/{incident_id}"
    detail = check(client.get("/api/incidents/inc-trace"), one, 200)
    assert len(detail["decisions"]) == 3 and len(detail["llm_calls"]) == 1 and len(detail["attempts"]) == 2
    assert detail["incident"]["signals"] and any(detail["evidence"].values())
    awaiting = check(client.get("/api/incidents/inc-approve"), one, 200)
    assert [a["attempt_id"] for a in awaiting["pending_approvals"]] == ["0001-rollback"]
    check(client.get("/api/incidents/inc-esc"), one, 200)
    check(client.get("/api/incidents/inc-nope"), one, 404)
    check(client.get("/api/incidents/bad%20id"), one, 400)

    answer = "/api/incidents/{incident_id}/approvals/{attempt_id}"
    url = "/api/incidents/inc-approve/approvals/0001-rollback"
    check(client.post(url, json={"decision": "approve"}), answer, 401, "post")
    check(client.post(url, json={"decision": "maybe"}, headers=WRITE), answer, 400, "post")
    check(client.post(url, json={"decision": "approve", "by": "ops"}, headers=WRITE), answer, 200, "post")
    check(client.post(url, json={"decision": "deny"}, headers=WRITE), answer, 409, "post")  # answered already
    answered = check(client.get("/api/incidents/inc-approve"), one, 200)
    assert answered["pending_approvals"] == [] and answered["attempts"][0]["approval"] == "approved"

    check(client.get("/api/services"), "/api/services", 200)
    metrics = "/api/services/{service}/metrics"
    series = check(client.get("/api/services/checkout/metrics"), metrics, 200)["series"]
    assert series["ErrorRate"] and series["Heartbeat"] == []
    check(client.get("/api/services/Not_A_Name/metrics"), metrics, 400)
    check(client.get("/api/services/checkout/metrics", query_string={"minutes": 0}), metrics, 400)
    logs = "/api/services/{service}/logs"
    tail = check(client.get("/api/services/checkout/logs"), logs, 200)
    assert [e["message"] for e in tail["events"]] == ["GET /cart 500", "GET /cart 200"] and tail["error"] is None
    assert check(client.get("/api/services/auth/logs"), logs, 200)["error"]  # no log group: said, not raised
    check(client.get("/api/services/checkout/logs", query_string={"limit": 0}), logs, 400)

    # The same routes with no stack deployed under the prefix.
    nowhere = create_app(
        {
            "TESTING": True,
            "WRITE_TOKEN": TOKEN,
            "RESOURCES": StackResources(
                name_prefix=f"{stack.prefix}-none", endpoint_url=stack.endpoint_url, client_factory=stack.client
            ),
        }
    ).test_client()
    for path in ("/api/overview", incidents, one, metrics, logs, "/api/services"):
        concrete = path.replace("{incident_id}", "inc-trace").replace("{service}", "checkout")
        check(nowhere.get(concrete), path, 503)
    check(nowhere.post(url, json={"decision": "deny"}, headers=WRITE), answer, 503, "post")

    # Every response the document names was produced and checked.
    assert check.documented() - check.covered == set()


MUTATIONS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "overview drops a field": ("/api/overview", lambda b: b.pop("open_count")),
    "overview adds a field": ("/api/overview", lambda b: b.update(surprise=1)),
    "overview retypes a field": ("/api/overview", lambda b: b.update(dlq_depth="1")),
    "a service tile drops its colour": ("/api/overview", lambda b: b["services"][0].pop("colour")),
    "window stats retype a count": ("/api/overview", lambda b: b["window"]["mttd"].update(count=None)),
    "detail drops the trace": ("/api/incidents/inc-trace", lambda b: b.pop("decisions")),
    "a trace step drops its phase": ("/api/incidents/inc-trace", lambda b: b["decisions"][0].pop("phase")),
    "an LLM call retypes its tokens": ("/api/incidents/inc-trace", lambda b: b["llm_calls"][0].update(tokens_in="4")),
    "an attempt drops awaiting_approval": (
        "/api/incidents/inc-trace",
        lambda b: b["attempts"][0].pop("awaiting_approval"),
    ),
    "an attempt leaks its task token": ("/api/incidents/inc-trace", lambda b: b["attempts"][0].update(task_token="t")),
    "the incident drops a field": ("/api/incidents/inc-trace", lambda b: b["incident"].pop("updated_at")),
    "an evidence point retypes its value": (
        "/api/incidents/inc-trace",
        lambda b: b["evidence"]["ErrorRate"][0].update(v="38"),
    ),
    "a page item drops its status": ("/api/incidents", lambda b: b["items"][0].pop("status")),
    "a page drops next_token": ("/api/incidents", lambda b: b.pop("next_token")),
    "a log event adds a field": ("/api/services/checkout/logs", lambda b: b["events"][0].update(level="info")),
    "metrics drop a series": ("/api/services/checkout/metrics", lambda b: b["series"].pop("ErrorRate")),
    "an error retypes its message": ("/api/incidents/inc-nope", lambda b: b.update(error=["nope"])),
}
TEMPLATES = {
    "/api/incidents/inc-trace": "/api/incidents/{incident_id}",
    "/api/incidents/inc-nope": "/api/incidents/{incident_id}",
    "/api/services/checkout/logs": "/api/services/{service}/logs",
    "/api/services/checkout/metrics": "/api/services/{service}/metrics",
}


def test_a_response_that_adds_drops_or_retypes_a_field_fails_its_schema(stack: DashboardStack, client: Any) -> None:
    seed_everything(stack)
    document = client.get("/api/openapi.json").get_json()
    for what, (url, mutate) in MUTATIONS.items():
        response = client.get(url)
        body = response.get_json()
        path = TEMPLATES.get(url, url)
        assert response_errors(document, path, "get", response.status_code, body) == [], what
        mutate(body)
        assert response_errors(document, path, "get", response.status_code, body), f"{what}: not caught"
