"""The JSON API: everything the pages show, for scripts and the live pages. Described at /api/openapi.json."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, abort, jsonify, request

from healops.dashboard import approvals, queries, resources
from healops.dashboard.openapi import document
from healops.dashboard.views.auth import bearer_token, token_matches
from healops.dashboard.views.incidents import timeline_args
from healops.models.metrics import SERVICE_METRICS

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/openapi.json")
def openapi() -> Any:
    return jsonify(document())


@bp.route("/overview")
def overview() -> Any:
    return jsonify(queries.overview(resources()).to_json())


@bp.route("/incidents")
def incidents() -> Any:
    items, next_token = queries.incident_page(resources(), **timeline_args())
    return jsonify({"items": items, "next_token": next_token})


@bp.route("/incidents/<incident_id>")
def incident(incident_id: str) -> Any:
    found = queries.incident_detail(resources(), incident_id)
    if found is None:
        abort(404)
    return jsonify(found.to_json())


@bp.route("/incidents/<incident_id>/approvals/<attempt_id>", methods=["POST"])
def answer(incident_id: str, attempt_id: str) -> Any:
    if not token_matches(bearer_token()):
        return jsonify({"error": "this needs the write token: header `Authorization: Bearer <token>`"}), 401
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("decision") not in ("approve", "deny"):
        raise queries.BadRequestError('body must be JSON {"decision": "approve" | "deny", "reason": "..."}')
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise queries.BadRequestError("reason must be a string")
    by = body.get("by") if isinstance(body.get("by"), str) and body.get("by") else "api"
    result = approvals.answer(
        resources(), incident_id, attempt_id, body["decision"] == "approve", by=by[:64], reason=reason
    )
    return jsonify(asdict(result))


@bp.route("/services")
def services() -> Any:
    return jsonify({"services": resources().service_names})


@bp.route("/services/<service>/metrics")
def metrics(service: str) -> Any:
    queries.check_service(service)
    minutes = queries.check_int("minutes", request.args.get("minutes"), 30, 1, queries.MAX_METRIC_MINUTES)
    now, res = queries.now_utc(), resources()
    # minutes of the fleet's time: N times fewer real minutes under --time-scale N
    series = queries.metric_series(
        res, service, SERVICE_METRICS, now - queries.fleet_minutes(minutes, res.time_scale), now
    )
    return jsonify({"service": service, "series": {k: [{"t": t, "v": v} for t, v in pts] for k, pts in series.items()}})


@bp.route("/services/<service>/logs")
def logs(service: str) -> Any:
    queries.check_service(service)
    since = request.args.get("since_ms")
    since_ms = queries.check_int("since_ms", since, 0, 0, 2**53) if since else None
    limit = queries.check_int("limit", request.args.get("limit"), 100, 1, 500)
    return jsonify({"service": service, **queries.log_tail(resources(), service, since_ms, queries.now_utc(), limit)})
