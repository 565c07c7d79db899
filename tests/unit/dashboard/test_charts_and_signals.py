"""The dashboard's SVG charts carry time axes, units and hovers; an incident's signals read as a table."""

from __future__ import annotations

import re

from healops.dashboard.charts import bar_chart, line_chart
from healops.dashboard.signals import signal_table

POINTS = [("2026-12-03T10:00:00+00:00", 40.0), ("2026-12-03T10:01:00+00:00", 55.5), ("2026-12-03T10:02:00+00:00", 61.0)]


def test_a_line_chart_names_its_unit_and_labels_its_time_axis_in_utc() -> None:
    svg = str(line_chart("CPUUtilization", POINTS))
    assert "CPUUtilization (%)" in svg and "last 61 %" in svg
    assert re.findall(r'class="time-tick">([^<]+)<', svg) == ["10:00:00", "10:01:00", "10:02:00 UTC"]


def test_every_point_of_a_line_chart_has_a_hover_with_its_time_and_value() -> None:
    svg = str(line_chart("LatencyP99", POINTS))
    assert re.findall(r"<circle[^>]*><title>([^<]+)</title>", svg) == [
        "10:00:00 UTC: 40 ms",
        "10:01:00 UTC: 55.5 ms",
        "10:02:00 UTC: 61 ms",
    ]


def test_an_unknown_metric_has_no_unit_and_a_given_one_wins() -> None:
    assert "(%)" not in str(line_chart("Custom", POINTS)) and "Custom (req/s)" in str(
        line_chart("Custom", POINTS, unit="req/s")
    )


def test_a_bar_chart_says_which_hour_each_bar_is_and_its_count() -> None:
    svg = str(bar_chart("incidents", [0, 2, 1]))
    assert re.findall(r"<rect[^>]*><title>([^<]+)</title>", svg) == [
        "3 h ago to 2 h ago: 0 incidents",
        "2 h ago to 1 h ago: 2 incidents",
        "the last hour: 1 incidents",
    ]
    assert "3 h ago" in svg and ">now<" in svg and "incidents per hour" in svg


def test_signals_become_columns_in_words_and_units_with_the_rest_in_one_cell() -> None:
    table = signal_table(
        [
            {
                "service": "auth",
                "kind": "forecast",
                "metric": "MemoryUtilization",
                "value": 71.234,
                "strong": False,
                "predicted": True,
                "eta_s": 1800.0,
                "eta_low_s": 1200.0,
                "eta_high_s": 2400.0,
                "detail": "leak",
            },
            {"service": "auth", "kind": "alarm", "score": 1.0, "alarm_name": "healops-auth-error-rate"},
        ]
    )
    assert table.headings == [
        "service",
        "signal",
        "metric",
        "value",
        "score",
        "strong",
        "exhaustion in",
        "detail",
        "other",
    ]
    first, second = table.rows
    assert first[:4] == ["auth", "forecast", "MemoryUtilization", "71.23 %"] and first[5] == "no"
    assert first[6].startswith("30") and "to" in first[6]  # 30 min (20 min to 40 min), as format_duration words it
    assert second[-1] == "alarm_name=healops-auth-error-rate" and second[4] == "1"


def test_a_signal_that_is_not_a_mapping_is_shown_as_text() -> None:
    assert signal_table(["<b>odd</b>"]).rows == [["<b>odd</b>"]]
