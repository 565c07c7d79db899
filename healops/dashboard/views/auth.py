"""The write token: a browser session becomes a writer by presenting it once; the API sends it per request."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

bp = Blueprint("auth", __name__)


def token_matches(candidate: str | None) -> bool:
    expected = current_app.config["WRITE_TOKEN"]
    return bool(candidate) and hmac.compare_digest(str(candidate).encode(), str(expected).encode())


def is_writer() -> bool:
    return bool(session.get("writer"))


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def writer_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages: the session must have presented the token (CSRF is checked by Flask-WTF on every POST)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_writer():
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _is_local_path(target: str) -> bool:
    """A path on this site as every browser reads it: one leading slash and no second one, no backslash (browsers
    read one as a slash), no control character or space (browsers drop a tab, so slash-tab-slash is two slashes),
    the same once percent-decoded (a ``%09`` is that tab), and nothing a URL parser takes for a scheme or host."""
    for form in (target, unquote(target)):
        if not form.startswith("/") or form.startswith("//") or "\\" in form:
            return False
        if any(ord(char) < 0x21 or ord(char) == 0x7F for char in form):
            return False
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next(target: str | None) -> str:
    """Where the login goes next: ``target`` if it is a path on this site, otherwise the overview."""
    if target and _is_local_path(target):
        return target
    return url_for("overview.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        if token_matches(request.form.get("token")):
            session.clear()
            session["writer"] = True
            return redirect(safe_next(request.form.get("next")))
        return render_template("auth/login.html", error="that is not the token", next=request.form.get("next")), 403
    return render_template("auth/login.html", error=None, next=request.args.get("next"))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    session.clear()
    return redirect(url_for("overview.index"))
