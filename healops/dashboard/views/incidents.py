"""Incident timeline (filters, page tokens), incident detail with the reasoning trace, approvals, artifacts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from healops.dashboard import approvals, charts, queries, resources
from healops.dashboard.signals import signal_table
from healops.dashboard.summaries import format_duration
from healops.dashboard.views.auth import writer_required

bp = Blueprint("incidents", __name__, url_prefix="/incidents")


def timeline_args() -> dict[str, Any]:
    args = request.args
    return {
        "status": args.get("status") or None,
        "service": args.get("service") or None,
        "since": queries.check_time("since", args.get("since")),
        "until": queries.check_time("until", args.get("until")),
        "limit": queries.check_int("limit", args.get("limit"), 50, 1, queries.MAX_PAGE),
        "page_token": args.get("page_token") or None,
    }


@bp.route("/")
def timeline() -> Any:
    filters = timeline_args()
    items, next_token = queries.incident_page(resources(), **filters)
    return render_template(
        "incidents/list.html",
        items=items,
        next_token=next_token,
        filters=filters,
        raw=request.args,
        statuses=queries.STATUSES,
    )


@bp.route("/<incident_id>")
def detail(incident_id: str) -> Any:
    found = queries.incident_detail(resources(), incident_id)
    if found is None:
        abort(404)
    evidence_charts = [charts.line_chart(name, points) for name, points in found.evidence.items()]
    tick = format_duration(resources().tick_seconds)
    return render_template(
        "incidents/detail.html",
        d=found,
        i=found.incident,
        evidence_charts=evidence_charts,
        tick=tick,
        signals=signal_table(found.incident.get("signals") or []),
    )


@bp.route("/<incident_id>/approvals/<attempt_id>", methods=["POST"])
@writer_required
def answer(incident_id: str, attempt_id: str) -> Any:
    decision = request.form.get("decision")
    if decision not in ("approve", "deny"):
        raise queries.BadRequestError(f"decision={decision!r} must be approve or deny")
    result = approvals.answer(
        resources(),
        incident_id,
        attempt_id,
        decision == "approve",
        by="dashboard",
        reason=request.form.get("reason", ""),
    )
    flash(f"{result.attempt_id}: {result.decision}")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#attempts")


@bp.route("/<incident_id>/artifacts")
def artifact(incident_id: str) -> Any:
    """One S3 artifact the incident or its attempts name (and only those), as plain text or JSON."""
    found = queries.incident_detail(resources(), incident_id)
    key = request.args.get("key", "")
    if found is None or key not in found.artifacts:
        abort(404)
    res = resources()
    bucket = res.artifacts_bucket
    if not bucket:
        abort(404)
    s3 = res.client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        abort(404)
    mimetype = "application/json" if key.endswith(".json") else "text/plain"
    response = Response(body, mimetype=mimetype)
    # Shown as data, never run: no scripts even if the artifact holds markup.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
