"""Each page and its API twin on the embedded cloud with Terraform's tables (no mocks)."""

from __future__ import annotations

import json
import re
from typing import Any

from healops.dashboard import create_app
from healops.dashboard.resources import StackResources
from healops.store.remediations import RemediationAttempt
from tests.dashboard_support import XSS_LLM, XSS_LOG, DashboardStack, ago, put_telemetry, seed_incident, seed_trace


def html(response: Any) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_overview_colours_each_service_and_says_why(stack: DashboardStack, client: Any) -> None:
    seed_incident(stack, "inc-pay-1", service="payments", severity="critical")
    seed_incident(stack, "inc-search-1", service="search", severity="low")
    page = html(client.get("/"))
    tiles = {
        service: colour
        for colour, service in re.findall(r'<li class="tile (\w+)"[^>]*>\s*<a href="/services/([a-z0-9-]+)"', page)
    }
    assert tiles["payments"] == "red" and tiles["search"] == "amber" and tiles["checkout"] == "green"
    assert "open critical incident inc-pay-1: error_rate" in page
    data = client.get("/api/overview").get_json()
    assert data["colour_counts"] == {"green": len(tiles) - 2, "amber": 1, "red": 1}
    assert [i["incident_id"] for i in data["open_incidents"]] == ["inc-search-1", "inc-pay-1"]


def test_overview_counts_the_last_24_hours_with_mttd_and_mttr(stack: DashboardStack, client: Any) -> None:
    seed_incident(
        stack, "inc-old", status="resolved", opened_minutes_ago=60 * 30, resolved_at=ago(60 * 29)
    )  # outside the window
    for n, (detect_s, repair_min) in enumerate([(60, 4), (120, 8), (180, 12)]):
        opened = 30 + n
        seed_incident(
            stack,
            f"inc-r{n}",
            status="resolved",
            opened_minutes_ago=opened,
            onset_at=ago(opened + detect_s / 60),
            resolved_at=ago(opened - repair_min),
        )
    data = client.get("/api/overview").get_json()["window"]
    assert data["total"] == 3 and data["by_status"] == {"resolved": 3}
    assert data["mttd"]["count"] == 3 and round(data["mttd"]["p50_s"]) == 120
    assert data["mttr"]["count"] == 3 and round(data["mttr"]["p50_s"]) == 8 * 60
    assert sum(data["per_hour"]) == 3
    assert "2.0 min" in html(client.get("/"))  # the median MTTD, as a person reads it


def test_overview_shows_dlq_depth_and_guard_state(stack: DashboardStack, client: Any) -> None:
    sqs = stack.client("sqs")
    for n in range(2):
        sqs.send_message(QueueUrl=stack.resources.stack["incidents_dlq_url"], MessageBody=f"poison {n}")
    stack.client("ssm").put_parameter(
        Name=f"/{stack.prefix}/remediation/policy",
        Type="String",
        Value=json.dumps({"dry_run": True, "breaker_failures": 2}),
    )
    seed_incident(stack, "inc-inv-1", service="inventory")
    for n in range(2):
        stack.resources.remediations.record(
            RemediationAttempt(
                incident_id="inc-inv-1",
                attempt_id=f"000{n + 1}-restart",
                service="inventory",
                action="restart",
                planner="offline",
                guard_decision="allow",
                verification="not_recovered",
                started_at=ago(5 - n),
            )
        )
    data = client.get("/api/overview").get_json()
    assert data["dlq_depth"] == 2
    assert data["guard"]["dry_run"] is True and data["guard"]["breakers_open"] == ["inventory"]
    page = html(client.get("/"))
    assert "dry run: <strong>ON</strong>" in page and 'id="breakers">inventory<' in page
    # Who approves what, for the policy in force (its keys left out take the deployed defaults).
    rollback = next(r for r in data["guard"]["approvals"] if r["action"] == "rollback_deploy")
    assert (rollback["own_service"], rollback["other_service"]) == ("auto", "approval")
    assert 'id="who-approves"' in page and "<td>rollback_deploy</td><td>auto</td><td>approval</td>" in page


def test_timeline_pages_through_every_status_newest_first_without_repeats(stack: DashboardStack, client: Any) -> None:
    statuses = ["open", "resolved", "escalated", "remediating"]
    for n in range(23):
        seed_incident(stack, f"inc-{n:02d}", status=statuses[n % 4], opened_minutes_ago=n + 1)
    seen: list[str] = []
    token = None
    while True:
        body = client.get("/api/incidents", query_string={"limit": 5, **({"page_token": token} if token else {})})
        data = body.get_json()
        assert body.status_code == 200 and len(data["items"]) <= 5
        seen += [i["incident_id"] for i in data["items"]]
        token = data["next_token"]
        if token is None:
            break
    assert seen == [f"inc-{n:02d}" for n in range(23)]


def test_timeline_filters_by_status_service_and_time(stack: DashboardStack, client: Any) -> None:
    seed_incident(stack, "inc-a", service="payments", status="open", opened_minutes_ago=5)
    seed_incident(stack, "inc-b", service="payments", status="resolved", opened_minutes_ago=15)
    seed_incident(stack, "inc-c", service="search", status="open", opened_minutes_ago=25)
    seed_incident(stack, "inc-d", service="payments", status="open", opened_minutes_ago=120)

    def ids(**query: Any) -> list[str]:
        return [i["incident_id"] for i in client.get("/api/incidents", query_string=query).get_json()["items"]]

    assert ids(status="open") == ["inc-a", "inc-c", "inc-d"]
    assert ids(service="payments") == ["inc-a", "inc-b", "inc-d"]
    assert ids(service="payments", status="open") == ["inc-a", "inc-d"]
    assert ids(since=ago(60)) == ["inc-a", "inc-b", "inc-c"]
    assert ids(service="payments", since=ago(60), until=ago(10)) == ["inc-b"]
    page = html(client.get("/incidents/", query_string={"service": "payments", "status": "open", "limit": 1}))
    assert "inc-a" in page and "inc-d" not in page and 'rel="next"' in page


def test_timeline_refuses_bad_filters_with_what_is_accepted(client: Any) -> None:
    bad = client.get("/api/incidents", query_string={"status": "sleeping"})
    assert bad.status_code == 400 and "open, remediating, resolved, escalated" in bad.get_json()["error"]
    assert client.get("/api/incidents", query_string={"limit": 0}).status_code == 400
    assert client.get("/api/incidents", query_string={"since": "yesterday"}).status_code == 400
    assert client.get("/api/incidents", query_string={"page_token": "bm90IGpzb24"}).status_code == 400
    page = client.get("/incidents/", query_string={"service": "Not A Service"})
    assert page.status_code == 400 and "is not a service name" in page.get_data(as_text=True)


def test_incident_detail_shows_signals_trace_llm_call_attempts_and_evidence(stack: DashboardStack, client: Any) -> None:
    put_telemetry(stack, "checkout", ["request ok"])
    seed_incident(
        stack,
        "inc-detail",
        summary="checkout errors after deploy",
        signals=[{"metric": "ErrorRate", "score": 0.97, "onset_at": ago(12)}],
        evidence_key="evidence/inc-detail/window.json",
    )
    stack.client("s3").put_object(
        Bucket=stack.resources.artifacts_bucket, Key="evidence/inc-detail/window.json", Body=b'{"ErrorRate": [1, 38]}'
    )
    seed_trace(stack, "inc-detail")
    stack.resources.remediations.record(
        RemediationAttempt(
            incident_id="inc-detail",
            attempt_id="0002-scale_out",
            service="checkout",
            action="scale_out",
            planner="offline",
            guard_decision="allow",
            verification="not_recovered",
            outcome="not_recovered",
            compensation="undone (remove the replicas it added): scale_in on checkout {'replicas': 4}",
        )
    )
    page = html(client.get("/incidents/inc-detail"))
    assert "undone (remove the replicas it added): scale_in on checkout" in page
    steps = re.findall(r'<strong class="step-title">([^<]+)</strong>', page)
    assert steps == ["ErrorRate 38% over 3 periods", "bad deploy on checkout", "rollback checkout to v2.4.0"]
    assert "rules-v1" in page and "&#34;diagnosis&#34;: &#34;bad deploy&#34;" in page
    assert "rollback is allowed for checkout" in page and "recovered" in page and "verified" in page
    signals = re.search(r'<table class="signals" id="incident-signals">(.*?)</table>', page, re.S)
    assert signals and re.findall(r"<td>([^<]*)</td>", signals.group(1))[:2] == ["ErrorRate", "0.97"]
    assert page.count("<polyline") >= 1  # the ErrorRate evidence chart has data
    artifact = client.get("/incidents/inc-detail/artifacts", query_string={"key": "evidence/inc-detail/window.json"})
    assert artifact.status_code == 200 and artifact.get_json() == {"ErrorRate": [1, 38]}
    assert "sandbox" in artifact.headers["Content-Security-Policy"]
    # Only keys the incident names are served: no reading the bucket by guesswork.
    other = client.get("/incidents/inc-detail/artifacts", query_string={"key": "evidence/other/secret.json"})
    assert other.status_code == 404
    data = client.get("/api/incidents/inc-detail").get_json()
    assert [d["seq"] for d in data["decisions"]] == [1, 2, 3] and data["attempts"][0]["verification"] == "recovered"
    assert data["evidence"]["ErrorRate"]


def test_an_escalated_incident_shows_when_and_why_it_was_escalated(stack: DashboardStack, client: Any) -> None:
    reason = "nobody approved failover on checkout before the approval timed out (States.Timeout) <b>"
    seed_incident(stack, "inc-esc", status="escalated", escalated_at=ago(2), escalation_reason=reason)
    page = html(client.get("/incidents/inc-esc"))
    shown = re.search(r'<dd class="warn" id="incident-escalation">(.*?)</dd>', page, re.S)
    assert shown and "nobody approved failover on checkout before the approval timed out" in shown.group(1)
    assert "&lt;b&gt;" in shown.group(1)  # the reason quotes untrusted text: escaped
    assert client.get("/api/incidents/inc-esc").get_json()["incident"]["escalation_reason"] == reason


def test_unknown_incident_is_404_in_pages_and_api(client: Any) -> None:
    assert client.get("/incidents/inc-nope").status_code == 404
    missing = client.get("/api/incidents/inc-nope")
    assert missing.status_code == 404 and "error" in missing.get_json()
    assert client.get("/api/incidents/bad%20id").status_code == 400


def test_service_page_and_api_serve_metrics_and_a_log_tail(stack: DashboardStack, client: Any) -> None:
    put_telemetry(stack, "search", [f"line {n}" for n in range(5)])
    metrics = client.get("/api/services/search/metrics", query_string={"minutes": 30}).get_json()
    assert len(metrics["series"]["ErrorRate"]) >= 5 and metrics["series"]["Heartbeat"] == []
    logs = client.get("/api/services/search/logs").get_json()
    assert [e["message"] for e in logs["events"]] == [f"line {n}" for n in range(5)]
    after = logs["events"][2]["timestamp"]
    newer = client.get("/api/services/search/logs", query_string={"since_ms": after + 1}).get_json()
    assert [e["message"] for e in newer["events"]] == ["line 3", "line 4"]
    page = html(client.get("/services/search"))
    assert "line 4" in page and 'src="/static/live.js"' in page and "<polyline" in page
    missing = client.get("/api/services/auth/logs").get_json()
    assert missing["events"] == [] and "does not exist" in missing["error"]


def test_untrusted_text_is_escaped_in_every_page(stack: DashboardStack, client: Any) -> None:
    put_telemetry(stack, "checkout", [XSS_LOG])
    seed_incident(stack, "inc-xss", summary=XSS_LOG, signals=[{"detail": XSS_LLM}])
    seed_trace(stack, "inc-xss", llm_response=XSS_LLM)
    for path in ("/", "/incidents/", "/incidents/inc-xss", "/services/checkout"):
        page = html(client.get(path))
        assert "<script>window" not in page and "<img src=x" not in page and "<svg onload" not in page, path
        assert "onmouseover='" not in page and 'onerror="' not in page, path
    detail = html(client.get("/incidents/inc-xss"))
    assert "&lt;script&gt;window.__pwned_llm=1&lt;/script&gt;" in detail


def test_every_response_carries_a_no_inline_script_policy(client: Any) -> None:
    response = client.get("/api/services")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_stack_with_five_minute_ticks_charts_a_point_per_five_minutes(stack: DashboardStack) -> None:
    # A datapoint every 2 minutes over the last 10, on a service no other test of the module writes to: an earlier
    # write to the same service (minutes before, on a loaded machine) would add its own periods to the window.
    put_telemetry(stack, "auth", ["line"])
    five_minute = StackResources(
        name_prefix=stack.prefix,
        endpoint_url=stack.endpoint_url,
        client_factory=stack.client,
        discovery={**stack.resources.stack, "tick_seconds": 300},
    )
    client = create_app({"TESTING": True, "RESOURCES": five_minute, "WRITE_TOKEN": "t"}).test_client()
    series = client.get("/api/services/auth/metrics", query_string={"minutes": 30}).get_json()["series"]
    assert 2 <= len(series["ErrorRate"]) <= 3  # 6 datapoints averaged into 5-minute periods
    page = html(client.get("/services/auth"))
    assert "last 150 minutes of the fleet's time" in page and 'data-window-minutes="150"' in page


def test_the_log_tail_shows_no_secret_a_service_logged(stack: DashboardStack, client: Any) -> None:
    leaked = "db connect postgres://app:s3cr3t-pass@db:5432/main Authorization: Bearer abc123"
    put_telemetry(stack, "inventory", [leaked])
    [event] = client.get("/api/services/inventory/logs").get_json()["events"]
    assert "s3cr3t-pass" not in event["message"] and "abc123" not in event["message"]
    assert event["message"].startswith("db connect postgres://app:[REDACTED]@db:5432/main")
    assert "s3cr3t-pass" not in html(client.get("/services/inventory"))


def test_an_incidents_page_shows_who_was_told_and_what_failed_escaped(stack: DashboardStack, client: Any) -> None:
    from healops.notify import Delivery

    seed_incident(stack, "inc-told", status="escalated", escalated_at=ago(2), escalation_reason="nothing recovered")
    assert "No one was notified" in html(client.get("/incidents/inc-told"))
    assert stack.resources.notifications is not None
    stack.resources.notifications.record(
        [
            Delivery("slack", "escalated", "inc-told", "delivered", 2),
            Delivery("webhook", "escalated", "inc-told", "failed", 3, f"webhook: HTTP 503 {XSS_LOG}"),
            Delivery("email", "escalated", "inc-told", "skipped", 0),
        ],
        ago(1),
    )
    page = html(client.get("/incidents/inc-told"))
    table = re.search(r'<table class="notifications" id="incident-notifications">(.*?)</table>', page, re.S)
    assert table, page
    rows = re.findall(r'<tr class="delivery delivery-(\w+)">(.*?)</tr>', table.group(1), re.S)
    assert [(status, "slack" in row, "webhook" in row) for status, row in rows] == [
        ("delivered", True, False),
        ("failed", False, True),
    ]  # a sink that does not take the event is not listed
    assert "webhook: HTTP 503" in rows[1][1] and "<script>window" not in page and "&lt;script&gt;" in rows[1][1]
    shown = client.get("/api/incidents/inc-told").get_json()["notifications"]
    assert [(n["sink"], n["status"], n["attempts"]) for n in shown] == [
        ("slack", "delivered", 2),
        ("webhook", "failed", 3),
    ]
