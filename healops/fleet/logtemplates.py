"""What a service's logs are made of: request paths, the exception a failing dependency's callers log, traces.

Templates only (each fault's own exceptions are on its type in :mod:`healops.fleet.faults`);
:mod:`healops.fleet.telemetry` picks among them deterministically. ``{dep}``,
``{service}``, ``{version}``, ``{limit}``, ``{code}`` and ``{ms}`` are filled in per record.
"""

from __future__ import annotations

import re

SITE = "/usr/local/lib/python3.11/site-packages"

# Request path per kind of service (generated copies use their original's name).
PATHS: dict[str, tuple[str, ...]] = {
    "edge": ("GET /", "GET /api/products", "POST /api/checkout", "GET /api/search"),
    "checkout": ("POST /v1/checkout", "GET /v1/cart", "POST /v1/cart/items"),
    "payments": ("POST /v1/charges", "POST /v1/refunds", "GET /v1/charges/{id}"),
    "ledger-db": ("INSERT ledger_entries", "SELECT accounts", "UPDATE balances"),
    "inventory": ("GET /v1/stock/{sku}", "POST /v1/reservations", "DELETE /v1/reservations/{id}"),
    "search": ("GET /v1/search", "GET /v1/suggest"),
    "auth": ("POST /v1/token/verify", "POST /v1/token", "GET /v1/jwks"),
    "notifications": ("POST /v1/notify", "POST /v1/email"),
}
DEFAULT_PATHS = ("GET /v1/items", "POST /v1/items")


def base_name(service: str) -> str:
    """``checkout-3`` → ``checkout`` (a generated copy's original)."""
    return re.sub(r"-\d+$", "", service)


def _trace(frames: list[tuple[str, int, str, str]], exc: str) -> str:
    lines = ["Traceback (most recent call last):"]
    for path, line, func, code in frames:
        lines.append(f'  File "{path}", line {line}, in {func}')
        lines.append(f"    {code}")
    lines.append(exc)
    return "\n".join(lines)


# One exception an error line may carry: (logger, exception type, message, trace frames (path, line, function, code)).
ErrorTemplate = tuple[str, str, str, list[tuple[str, int, str, str]]]

# What a caller's error lines say when a service it depends on fails (each fault's own are on its type in
# healops.fleet.faults).
UPSTREAM_ERRORS: tuple[ErrorTemplate, ...] = (
    (
        "app.client",
        "httpx.HTTPStatusError",
        "Server error '503 Service Unavailable' for url 'http://{dep}.internal/' after 3 retries",
        [
            ("/app/{service}/client.py", 58, "call", "response.raise_for_status()"),
            (
                f"{SITE}/httpx/_models.py",
                829,
                "raise_for_status",
                "raise HTTPStatusError(message, request=request, response=self)",
            ),
        ],
    ),
)


def error_record(options: tuple[ErrorTemplate, ...], choice: int, **values: str) -> dict[str, str]:
    """One exception of ``options`` (the ``choice``-th, cyclically): its logger, type, message and a formatted trace."""
    logger, exc_type, message, frames = options[choice % len(options)]
    message = message.format(**values)
    filled = [(p.format(**values), line, func, code) for p, line, func, code in frames]
    return {
        "logger": logger,
        "type": exc_type,
        "message": message,
        "stacktrace": _trace(filled, f"{exc_type}: {message}" if message else exc_type),
    }
