"""Per service: live metric charts and a tail of its log group, refreshed by polling the JSON API."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, render_template

from healops.dashboard import charts, queries, resources
from healops.models.metrics import SERVICE_METRICS

bp = Blueprint("services", __name__, url_prefix="/services")


@bp.route("/")
def index() -> Any:
    return render_template("services/index.html", services=resources().service_names)


@bp.route("/<service>")
def detail(service: str) -> Any:
    queries.check_service(service)
    res = resources()
    now = queries.now_utc()
    # the last 30 ticks, in the minutes of fleet time the live refresh asks the API for
    window_minutes = min(queries.MAX_METRIC_MINUTES, math.ceil(30 * res.tick_seconds / 60))
    start = now - queries.fleet_minutes(window_minutes, res.time_scale)
    series = queries.metric_series(res, service, SERVICE_METRICS, start, now)
    return render_template(
        "services/detail.html",
        service=service,
        window_minutes=window_minutes,
        metric_charts={name: charts.line_chart(name, pts) for name, pts in series.items()},
        logs=queries.log_tail(res, service, None, now),
        incidents=res.incidents.by_service(service, limit=10).items,
    )
