"""The dashboard in a real browser: overview → incident → reasoning trace; hostile text stays text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from healops.remediation.catalog import CATALOG
from healops.remediation.policy import DEFAULT_POLICY
from tests.dashboard_support import XSS_LLM, XSS_LOG, DashboardStack, put_telemetry, seed_incident, seed_trace

PWNED = ["__pwned_log", "__pwned_img", "__pwned_llm", "__pwned_attr", "__pwned_svg"]


def no_payload_ran(page: Page) -> None:
    ran = page.evaluate(f"() => {PWNED}.filter(name => window[name] !== undefined)")
    assert ran == [], f"injected script ran: {ran}"


def test_overview_leads_to_the_incident_and_its_reasoning_trace(
    page: Page, stack: DashboardStack, dashboard_url: str, screenshots_dir: Path
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    put_telemetry(stack, "checkout", ["GET /cart 200", XSS_LOG])
    seed_incident(
        stack,
        "inc-browser-1",
        severity="high",
        summary="checkout 5xx after deploy v2.4.1 " + XSS_LOG,
        signals=[{"metric": "ErrorRate", "score": 0.97, "detail": XSS_LLM}],
    )
    seed_trace(stack, "inc-browser-1", llm_response=XSS_LLM)

    page.goto(dashboard_url + "/")
    checkout = page.locator("#health-grid li.tile", has_text="checkout")
    expect(checkout).to_have_class("tile red")
    expect(checkout).to_contain_text("open high incident inc-browser-1")
    expect(page.locator("#open-count")).to_have_text("1")
    page.screenshot(path=str(screenshots_dir / "dashboard-overview.png"), full_page=True)

    page.get_by_role("link", name="inc-browser-1").first.click()
    expect(page).to_have_url(dashboard_url + "/incidents/inc-browser-1")
    expect(page.locator("#incident-title")).to_contain_text("error_rate on checkout")
    steps = page.locator("ol.trace .step-title")
    expect(steps).to_have_text(
        ["ErrorRate 38% over 3 periods", "bad deploy on checkout", "rollback checkout to v2.4.0"]
    )
    # Hostile text is shown as the characters it is, never run.
    expect(page.locator("pre.llm-response")).to_have_text(XSS_LLM)
    expect(page.locator("#incident-summary")).to_contain_text("<script>window.__pwned_log=1</script>")
    expect(page.locator("table.attempts")).to_contain_text("rollback is allowed for checkout")
    page.locator("pre.llm-response").hover()
    page.screenshot(path=str(screenshots_dir / "dashboard-incident.png"), full_page=True)
    no_payload_ran(page)
    assert page.locator("script:not([src])").count() == 0 and page.locator("img").count() == 0
    assert dialogs == []


def test_service_page_tails_new_log_lines_live_as_text(page: Page, stack: DashboardStack, dashboard_url: str) -> None:
    put_telemetry(stack, "search", ["first line"])
    page.goto(dashboard_url + "/services/search")
    expect(page.locator("#log-tail li")).to_have_count(1)
    put_telemetry(stack, "search", ["second line", XSS_LOG])
    expect(page.locator("#log-tail .msg")).to_have_text(["first line", "second line", XSS_LOG], timeout=10_000)
    expect(page.locator("#live-status")).to_contain_text("updated")
    no_payload_ran(page)
    assert page.locator("#log-tail img").count() == 0


def test_approve_button_needs_the_write_token(page: Page, dashboard_url: str, stack: Any) -> None:
    page.goto(dashboard_url + "/login")
    page.fill("input[name=token]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator("p.error")).to_have_text("that is not the token")
    page.fill("input[name=token]", "browser-test-token")
    page.click("button[type=submit]")
    expect(page.locator("header .badge")).to_have_text("can approve")


def test_an_incidents_signals_are_a_table_and_its_charts_have_time_axes_units_and_hovers(
    page: Page, stack: DashboardStack, dashboard_url: str
) -> None:
    put_telemetry(stack, "payments", ["GET /pay 200"])
    seed_incident(
        stack,
        "inc-browser-signals",
        service="payments",
        signals=[
            {
                "service": "payments",
                "kind": "level_high",
                "metric": "ErrorRate",
                "value": 31.5,
                "baseline": 0.3,
                "score": 9.27,
                "strong": True,
                "tick": 812,
                "detail": XSS_LLM,
            },
        ],
    )
    page.goto(dashboard_url + "/incidents/inc-browser-signals")
    table = page.locator("#incident-signals")
    expect(table.locator("th")).to_have_text(
        ["service", "signal", "metric", "value", "baseline", "score", "strong", "tick", "detail"]
    )
    expect(table.locator("tbody td")).to_have_text(
        ["payments", "level_high", "ErrorRate", "31.5 %", "0.3 %", "9.27", "yes", "812", XSS_LLM]
    )
    assert page.locator("#incident-signals pre").count() == 0  # no JSON dump
    chart = page.locator(".charts svg", has_text="ErrorRate (%)")
    expect(chart.locator(".time-tick")).to_have_count(3)
    expect(chart.locator(".time-tick").last).to_contain_text("UTC")
    hovers = chart.locator("circle.point title")
    assert hovers.count() >= 2
    expect(hovers.first).to_have_text(re.compile(r"^\d\d:\d\d:\d\d UTC: [\d.]+ %$"))
    no_payload_ran(page)


def test_a_service_charts_hovers_follow_the_live_refresh(page: Page, stack: DashboardStack, dashboard_url: str) -> None:
    put_telemetry(stack, "inventory", ["first"])
    page.goto(dashboard_url + "/services/inventory")
    chart = page.locator("#metric-charts figure[data-metric=LatencyP99] svg")
    expect(chart.locator(".chart-title")).to_have_text("LatencyP99 (ms)")
    expect(page.locator("#live-status")).to_contain_text("updated", timeout=10_000)
    # Redrawn by live.js: a hover per point, in the metric's unit, and three time labels.
    expect(chart.locator("circle.point title").first).to_have_text(re.compile(r"UTC: [\d.]+ ms$"))
    expect(chart.locator(".time-tick")).to_have_count(3)


def test_the_overview_shows_who_approves_what_from_the_policy_in_force(
    page: Page, stack: DashboardStack, dashboard_url: str
) -> None:
    ssm = stack.client("ssm")
    name = f"/{stack.prefix}/remediation/policy"
    # What Terraform writes with no overrides: the default policy file, as it is.
    ssm.put_parameter(Name=name, Value=json.dumps(DEFAULT_POLICY), Type="String", Overwrite=True)
    try:
        page.goto(dashboard_url + "/")
        table = page.locator("#who-approves")
        table.locator("summary").click()
        expect(table.locator("summary")).to_have_text(f"Who approves what (policy: {name})")
        expect(table.locator("th")).to_have_text(
            ["action", "on the incident's own service", "on another service", "also asks a human"]
        )
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(len(CATALOG))
        # docs/architecture.md's table: the standard fix on the incident's own service runs, elsewhere a human.
        expect(rows.filter(has_text="rollback_deploy").locator("td")).to_have_text(
            ["rollback_deploy", "auto", "approval", ""]
        )
        expect(rows.filter(has_text="scale_in").locator("td")).to_have_text(
            ["scale_in", "auto", "approval", "fewer than 2 replicas left"]
        )
        expect(rows.filter(has_text="no_op_observe").locator("td")).to_have_text(["no_op_observe", "auto", "auto", ""])
        # An operator's change to the parameter is what the next page shows.
        changed = {**DEFAULT_POLICY, "approval_actions": {"*": ["rollback_deploy"], "payments": ["restart_service"]}}
        ssm.put_parameter(Name=name, Value=json.dumps(changed), Type="String", Overwrite=True)
        page.reload()
        table.locator("summary").click()
        expect(rows.filter(has_text="rollback_deploy").locator("td")).to_have_text(
            ["rollback_deploy", "approval", "approval", ""]
        )
        expect(rows.filter(has_text="restart_service").locator("td")).to_have_text(
            ["restart_service", "auto", "approval", "on payments"]
        )
    finally:
        ssm.delete_parameter(Name=name)
