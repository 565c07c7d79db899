"""Pure parts: service colours, MTTD/MTTR, merged timeline pages, SVG escaping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from healops.dashboard.charts import bar_chart, line_chart
from healops.dashboard.resources import StackResources
from healops.dashboard.summaries import service_health, summarise_window
from healops.dashboard.timeline import BadPageTokenError, Stream, merged_page
from healops.store.base import Page, decode_page_token, encode_page_token

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat()


@pytest.mark.parametrize(
    ("health", "incidents", "colour"),
    [
        ("healthy", [], "green"),
        ("degraded", [], "amber"),
        ("down", [], "red"),
        ("healthy", [{"status": "open", "severity": "low", "incident_id": "i", "kind": "k"}], "amber"),
        ("healthy", [{"status": "open", "severity": "high", "incident_id": "i", "kind": "k"}], "red"),
        ("degraded", [{"status": "escalated", "severity": "low", "incident_id": "i", "kind": "k"}], "red"),
    ],
)
def test_service_colour_is_the_worst_of_its_health_and_open_incidents(
    health: str, incidents: list, colour: str
) -> None:
    state = SimpleNamespace(health=health, replicas=2, version="1", last_action=None)
    verdict = service_health("checkout", state, incidents)
    assert verdict.colour == colour and verdict.reasons


def test_missing_state_is_amber_and_says_so() -> None:
    assert service_health("x", None, []).reasons == ("no state record in the fleet table",)


def test_window_summary_measures_from_onset_and_to_resolution() -> None:
    items = [
        {"status": "resolved", "kind": "a", "opened_at": at(30), "resolved_at": at(20), "signals": [{"since": at(31)}]},
        {"status": "open", "kind": "a", "opened_at": at(90), "onset_at": at(93)},
        {"status": "resolved", "kind": "b", "opened_at": at(10), "resolved_at": None},
    ]
    summary = summarise_window(items, NOW)
    assert (
        summary.total == 3 and summary.by_status == {"open": 1, "resolved": 2} and summary.by_kind == {"a": 2, "b": 1}
    )
    assert summary.mttd.count == 2 and summary.mttd.p50_s == 60.0 and summary.mttd.p95_s == 180.0
    assert summary.mttr.count == 1 and summary.mttr.out_of == 2 and summary.mttr.p50_s == 600.0
    assert summary.per_hour[-1] == 2 and summary.per_hour[-2] == 1


def _stream(name: str, items: list[dict[str, Any]], keep: Any = None) -> Stream:
    """A stream over a sorted list that pages like DynamoDB (token = the last key returned)."""
    ordered = sorted(items, key=lambda i: i["opened_at"], reverse=True)

    def read(limit: int, token: str | None) -> Page:
        start = 0
        if token:
            last = decode_page_token(token)["incident_id"]  # type: ignore[index]
            start = next(n for n, i in enumerate(ordered) if i["incident_id"] == last) + 1
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return Page(page, encode_page_token({"incident_id": page[-1]["incident_id"]}) if more and page else None)

    return Stream(name, read, ("incident_id",), keep or (lambda _i: True))


def test_merged_pages_cover_every_stream_once_in_time_order() -> None:
    a = [{"incident_id": f"a{n}", "opened_at": at(n * 3)} for n in range(7)]
    b = [{"incident_id": f"b{n}", "opened_at": at(n * 5 + 1)} for n in range(4)]
    streams = [_stream("a", a), _stream("b", b), _stream("c", [])]
    seen, token = [], None
    while True:
        items, token = merged_page(streams, 3, token)
        seen += items
        if token is None:
            break
    assert [i["incident_id"] for i in seen] == [
        i["incident_id"] for i in sorted(a + b, key=lambda i: i["opened_at"], reverse=True)
    ]


def test_a_filtered_stream_reads_on_until_its_page_is_full() -> None:
    items = [
        {"incident_id": f"i{n}", "opened_at": at(n), "status": "open" if n % 4 == 0 else "resolved"} for n in range(20)
    ]
    stream = _stream("s", items, keep=lambda i: i["status"] == "open")
    first, token = merged_page([stream], 2, None)
    second, token = merged_page([stream], 2, token)
    third, token = merged_page([stream], 2, token)
    assert [i["incident_id"] for i in first + second + third] == ["i0", "i4", "i8", "i12", "i16"] and token is None


def test_a_token_from_other_filters_is_refused() -> None:
    _, token = merged_page([_stream("a", [{"incident_id": f"a{n}", "opened_at": at(n)} for n in range(5)])], 2, None)
    with pytest.raises(BadPageTokenError, match="does not match these filters"):
        merged_page([_stream("b", [])], 2, token)


def test_chart_labels_are_escaped() -> None:
    svg = line_chart('<script>x</script>" onload="y', [(at(2), 1.0), (at(1), 3.0)])
    assert "<script>" not in svg and 'onload="y' not in svg and "&lt;script&gt;" in svg
    assert "<polyline" in svg and "no data" in line_chart("m", [])
    assert bar_chart("n", [0, 2, 1]).count("<rect") == 3


def test_summaries_are_reused_within_their_ttl_and_recomputed_after() -> None:
    calls: list[int] = []
    res = StackResources(discovery={}, summary_ttl_s=60)
    assert res.cached("k", lambda: calls.append(1) or len(calls)) == 1
    assert res.cached("k", lambda: calls.append(1) or len(calls)) == 1
    res.summary_ttl_s = 0
    assert res.cached("k", lambda: calls.append(1) or len(calls)) == 2


def test_run_all_keeps_order_and_raises_the_first_error() -> None:
    res = StackResources(discovery={})
    assert res.run_all(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]
    with pytest.raises(ZeroDivisionError):
        res.run_all(lambda: 1, lambda: 1 / 0)


def test_charts_take_a_point_per_tick_of_the_stacks_time_scale() -> None:
    from healops.dashboard.queries import metric_period

    # a 60 s tick: 60 s of real time at scale 1, 1 s at 60; periods CloudWatch accepts
    tick_s = [StackResources(discovery={}, time_scale=scale).tick_real_seconds for scale in (1, 0.5, 2, 6, 12, 60, 600)]
    assert [metric_period(t) for t in tick_s] == [60, 120, 30, 10, 5, 1, 1]


def test_charts_take_a_point_per_tick_of_the_stacks_tick_schedule() -> None:
    from healops.dashboard.queries import metric_period

    # Terraform's tick_schedule rate(5 minutes) reaches the dashboard through the discovery document
    five_minutes = StackResources(discovery={"tick_seconds": 300})
    assert five_minutes.tick_seconds == 300
    assert metric_period(five_minutes.tick_real_seconds) == 300
    assert metric_period(StackResources(discovery={"tick_seconds": 300}, time_scale=60).tick_real_seconds) == 5


@pytest.mark.parametrize("bad", [0, -60, "soon", None, float("nan")])
def test_a_discovery_document_with_a_bad_tick_length_is_refused_by_name(bad: Any) -> None:
    with pytest.raises(ValueError, match="tick_seconds must be a positive number of seconds"):
        _ = StackResources(discovery={"tick_seconds": bad}).tick_seconds


def test_the_evidence_window_is_counted_in_ticks_not_real_minutes() -> None:
    from healops.dashboard.queries import evidence_window

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    incident = {"opened_at": "2026-11-25T11:50:00+00:00", "resolved_at": "2026-11-25T11:50:20+00:00"}
    # at x60, 30 ticks before the opening are 30 real seconds, 10 ticks after the resolution 10 s
    start, end = evidence_window(incident, now, tick_s=1)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-25T11:49:30+00:00", "2026-11-25T11:50:30+00:00")
    start, end = evidence_window(incident, now, tick_s=60)  # at x1, real minutes (capped at now)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-25T11:20:00+00:00", "2026-11-25T12:00:00+00:00")
    # 5-minute ticks: 30 ticks are two and a half hours
    start, _ = evidence_window(incident, now, tick_s=300)
    assert start.isoformat() == "2026-11-25T09:20:00+00:00"
