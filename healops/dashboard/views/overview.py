"""Overview: fleet health grid, open incidents, the last 24 hours, DLQ depth, guard state."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from healops.dashboard import charts, queries, resources

bp = Blueprint("overview", __name__)


@bp.route("/")
def index() -> Any:
    data = queries.overview(resources())
    return render_template(
        "overview/index.html",
        o=data,
        per_hour_chart=charts.bar_chart("incidents opened per hour, last 24 h", data.window.per_hour),
    )
