"""The Heal-Ops dashboard: a Flask app over the stack's tables, CloudWatch and S3.

``create_app(test_config=None)`` builds it: defaults, then the environment (``HEALOPS_DASHBOARD_*``),
then ``test_config``. Blueprints: overview, incidents, services, the JSON API (``/api/``, described by
``/api/openapi.json``) and auth (the write token). Every query is a key or GSI query; every piece of
stored text is escaped by Jinja's autoescape; writes need the token and, from forms, a CSRF token.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from healops.dashboard.resources import StackNotFoundError, StackResources

__all__ = ["create_app", "resources"]

csrf = CSRFProtect()

# Content-Security-Policy: only our own scripts and styles; no inline script, no plugins, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def own_host(host_header: str) -> bool:
    """The dashboard serves loopback names only (any port: ``--port 0`` picks one): a page on a DNS name rebound to
    127.0.0.1 sends its own name and is refused."""
    from healops.local.local_only import is_loopback, split_host

    return is_loopback(split_host(host_header)[0])


def _token_from_file(path: str | None) -> str | None:
    if path and Path(path).is_file():
        return Path(path).read_text().strip() or None
    return None


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(
        SECRET_KEY=secrets.token_hex(32),
        ENDPOINT_URL=os.environ.get("AWS_ENDPOINT_URL"),
        NAME_PREFIX=os.environ.get("HEALOPS_NAME_PREFIX", "healops"),
        WRITE_TOKEN=os.environ.get("HEALOPS_DASHBOARD_TOKEN")
        or _token_from_file(os.environ.get("HEALOPS_DASHBOARD_TOKEN_FILE")),
        # Poll interval of the live pages, milliseconds.
        LIVE_REFRESH_MS=5000,
        # How long the 24-hour figures (counts, MTTD, MTTR) are reused before being recomputed.
        SUMMARY_TTL_S=30.0,
        # The stack's time scale (healops up --time-scale): charts show a point per tick of it.
        TIME_SCALE=float(os.environ.get("HEALOPS_TIME_SCALE", "1")),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config["WRITE_TOKEN"]:
        # Nobody was told this one: writes stay impossible until a token is configured.
        app.config["WRITE_TOKEN"] = secrets.token_urlsafe(32)
    app.extensions["healops"] = app.config.get("RESOURCES") or StackResources(
        name_prefix=app.config["NAME_PREFIX"],
        endpoint_url=app.config["ENDPOINT_URL"],
        summary_ttl_s=float(app.config["SUMMARY_TTL_S"]),
        time_scale=float(app.config["TIME_SCALE"]),
    )
    csrf.init_app(app)
    app.jinja_env.filters["pretty"] = _pretty

    from healops.dashboard.views import api, auth, incidents, overview, services

    app.register_blueprint(overview.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(services.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    # The API authenticates writes with a bearer header, which browsers never send on their own.
    csrf.exempt(api.bp)
    _register_handlers(app)
    return app


def _pretty(value: Any) -> str:
    """Indented JSON as a plain string: autoescape still escapes it (never ``|tojson`` into HTML text)."""
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


def resources() -> StackResources:
    from flask import current_app

    return current_app.extensions["healops"]


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_handlers(app: Flask) -> None:
    from healops.dashboard.approvals import ApprovalError
    from healops.dashboard.queries import BadRequestError
    from healops.dashboard.timeline import BadPageTokenError

    def error(status: int, message: str) -> Any:
        if _wants_json():
            return jsonify({"error": message}), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(BadRequestError)
    @app.errorhandler(BadPageTokenError)
    def bad_request(exc: Exception) -> Any:
        return error(400, str(exc))

    @app.errorhandler(ApprovalError)
    def approval_refused(exc: Exception) -> Any:
        return error(409, str(exc))

    @app.errorhandler(StackNotFoundError)
    def no_stack(exc: Exception) -> Any:
        return error(503, str(exc))

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> Any:
        return error(400, f"form rejected: {exc.description} (reload the page and try again)")

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Any:
        return error(404, f"nothing at {request.path}")

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Any:
        return error(405, f"{request.method} is not accepted at {request.path}")

    @app.before_request
    def refuse_foreign_hosts() -> Any:
        if not own_host(request.host):
            shown = request.host[:100]
            return error(400, f"Host {shown!r} is not this dashboard's: it answers 127.0.0.1, localhost and [::1]")
        return None

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        from healops.dashboard.summaries import format_duration
        from healops.dashboard.views.auth import is_writer

        return {"is_writer": is_writer(), "format_duration": format_duration, "g": g}
