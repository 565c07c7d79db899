"""The embedded cloud answers this machine's own tools, not the web pages in its browser.

moto's server accepts any signature, answers every origin with ``Access-Control-Allow-Origin`` and serves
``/moto-api/*`` (reset, config, recorded calls). On a laptop that means any page open in the browser can read
the stack's secrets, approve remediations or wipe everything. :class:`LocalOnly` is a WSGI middleware in front
of moto's app (and of the ``/_healops/`` routes) that refuses, with 403 and no ``Access-Control-Allow-*``
header, every request that:

- carries an ``Origin`` that is not the endpoint itself (browsers send it on every cross-origin call, and on
  preflights; boto3, the AWS CLI, awslocal and Terraform never do);
- says it comes from another site (``Sec-Fetch-Site: cross-site`` or ``same-site``: a cross-site ``<img>`` or
  ``<form>`` sends no ``Origin`` but does send that);
- names a ``Host`` other than the endpoint's own: ``127.0.0.1``, ``localhost``, ``[::1]`` or a name under
  ``localhost`` (S3's virtual-host form, ``<bucket>.s3.localhost``), at the endpoint's port; a page on a DNS
  name rebound to 127.0.0.1 sends its own name (unless the cloud serves remote clients, ``allow_remote``);
- asks for ``/moto-api/*``: nothing in Heal-Ops uses it (Step Functions' ``execute_state_machine`` is switched on
  in process, see :mod:`healops.local.server`), so it is closed to every caller.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

MOTO_API_PREFIX = "/moto-api"
LOOPBACK_NAMES = ("localhost",)
# What a browser says of a request's origin; "same-origin" and "none" (typed in, a bookmark) are the page itself.
FOREIGN_FETCH_SITES = ("cross-site", "same-site")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses only this machine can reach."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RemoteBindError(ValueError):
    """A non-loopback address was asked for without ``--allow-remote``."""


def remote_exposure(host: str, port: int) -> str:
    """The one sentence ``--allow-remote`` prints before starting."""
    return (
        f"--allow-remote: the embedded cloud on {host}:{port} accepts any request, with any credentials, from any "
        "machine that can reach that address: it can read every secret in the stack (the LLM keys among them), "
        "approve remediations, and create and run Lambda functions as local processes under your user."
    )


def check_bind_host(host: str, allow_remote: bool) -> None:
    """Refuse an address other machines can reach unless ``allow_remote`` says so."""
    if not allow_remote and not is_loopback(host):
        raise RemoteBindError(
            f"--host {host} is not a loopback address: the embedded cloud takes any credentials, so it listens on "
            "127.0.0.1, ::1 or localhost only; add --allow-remote to listen on another address anyway"
        )


def split_host(value: str) -> tuple[str, str]:
    """``name:port`` (or ``[v6]:port``) into its name, lower-cased, and its port ('' when absent)."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else ""
    name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return name, port


@dataclass(frozen=True)
class LocalOnlyPolicy:
    """Who the endpoint on ``port`` answers; ``allow_remote`` (``healops up --allow-remote``) lifts the Host check
    (remote tools name the machine as they know it) but never the browser checks."""

    port: int
    allow_remote: bool = False

    def host_is_own(self, host_header: str) -> bool:
        name, port = split_host(host_header)
        if port != str(self.port):
            return False
        return is_loopback(name) or name.endswith(".localhost")

    def origin_is_own(self, origin: str) -> bool:
        scheme, sep, rest = origin.strip().partition("://")
        return bool(sep) and scheme.lower() == "http" and "/" not in rest and self.host_is_own(rest)

    def refusal(self, environ: dict[str, Any]) -> str | None:
        """Why the request is refused, or None to serve it."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not self.origin_is_own(origin):
            return f"cross-origin request from {origin[:100]!r} refused: the embedded cloud serves local tools only"
        site = environ.get("HTTP_SEC_FETCH_SITE", "").lower()
        if site in FOREIGN_FETCH_SITES:
            return f"request from another site (Sec-Fetch-Site: {site}) refused: the cloud serves local tools only"
        host = environ.get("HTTP_HOST", "")
        if not self.allow_remote and not self.host_is_own(host):
            return (
                f"Host {host[:100]!r} refused: the embedded cloud answers 127.0.0.1:{self.port}, "
                f"localhost:{self.port} and names under localhost at that port"
            )
        if environ.get("PATH_INFO", "").startswith(MOTO_API_PREFIX):
            return "/moto-api/ is closed: Heal-Ops does not use it, and it would let any caller reset the stack"
        return None


class LocalOnly:
    """WSGI middleware: serve ``app`` only the requests :class:`LocalOnlyPolicy` accepts, 403 the rest, and never
    let an ``Access-Control-Allow-*`` header out (moto's own CORS is switched off too; this holds if it is not)."""

    def __init__(self, app: WSGIApp, policy: LocalOnlyPolicy) -> None:
        self.app = app
        self.policy = policy

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reason = self.policy.refusal(environ)
        if reason is not None:
            logger.warning("refused %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), reason)
            body = json.dumps({"error": "Forbidden", "message": reason}).encode()
            start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        def start_without_cors(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(status, kept, *exc_info)

        return self.app(environ, start_without_cors)
