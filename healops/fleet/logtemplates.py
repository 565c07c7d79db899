"""What a service's error logs say during each fault: realistic exception types, messages, traces.

Templates only; :mod:`healops.fleet.telemetry` picks among them deterministically. ``{dep}``,
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


# fault -> list of (logger, exception type, message, trace frames)
ERRORS: dict[str, tuple[tuple[str, str, str, list[tuple[str, int, str, str]]], ...]] = {
    "error_storm": (
        (
            "app.cache",
            "redis.exceptions.ConnectionError",
            "Error 111 connecting to cache.{service}.internal:6379. Connection refused.",
            [
                ("/app/{service}/handlers.py", 88, "handle", "cached = self.cache.get(key)"),
                (f"{SITE}/redis/client.py", 1266, "get", "return self.execute_command('GET', name)"),
                (f"{SITE}/redis/connection.py", 707, "connect", "raise ConnectionError(self._error_message(e))"),
            ],
        ),
        (
            "app.http",
            "sqlalchemy.exc.TimeoutError",
            "QueuePool limit of size 20 overflow 10 reached, connection timed out, timeout 30.00",
            [
                ("/app/{service}/repository.py", 41, "load", "with self.engine.connect() as conn:"),
                (f"{SITE}/sqlalchemy/pool/impl.py", 168, "_do_get", "raise exc.TimeoutError("),
            ],
        ),
    ),
    "bad_deploy": (
        (
            "app.handlers",
            "KeyError",
            "'currency_code'",
            [
                ("/app/{service}/handlers.py", 132, "handle", "amount = Money(body['amount'], body['currency_code'])"),
            ],
        ),
        (
            "app.handlers",
            "AttributeError",
            "'NoneType' object has no attribute 'tenant_id'",
            [
                ("/app/{service}/middleware.py", 57, "__call__", "scope['tenant'] = request.user.tenant_id"),
            ],
        ),
    ),
    "memory_leak": (
        (
            "app.worker",
            "MemoryError",
            "",
            [
                ("/app/{service}/cache.py", 73, "remember", "self._entries[key] = value"),
            ],
        ),
    ),
    "disk_exhaustion": (
        (
            "app.storage",
            "OSError",
            "[Errno 28] No space left on device: '/var/lib/{service}/spool/batch-0042.tmp'",
            [
                ("/app/{service}/spool.py", 64, "append", "with open(path, 'ab') as fh:"),
            ],
        ),
    ),
    "dependency_failure": (
        (
            "app.db",
            "psycopg.OperationalError",
            "connection failed: FATAL:  remaining connection slots are reserved for non-replication "
            "superuser connections",
            [
                ("/app/{service}/db.py", 29, "connect", "return psycopg.connect(self.dsn, connect_timeout=3)"),
                (f"{SITE}/psycopg/connection.py", 748, "connect", "raise last_ex.with_traceback(None)"),
            ],
        ),
    ),
    "cpu_saturation": (
        (
            "app.http",
            "asyncio.exceptions.TimeoutError",
            "request handler exceeded its 5.0 s deadline",
            [("/app/{service}/server.py", 210, "dispatch", "return await asyncio.wait_for(handler(request), 5.0)")],
        ),
    ),
    "network_latency": (
        (
            "app.client",
            "httpx.ReadTimeout",
            "timed out after {ms} ms",
            [
                ("/app/{service}/client.py", 51, "call", "response = await self.http.post(url, json=payload)"),
                (
                    f"{SITE}/httpx/_transports/default.py",
                    86,
                    "map_httpcore_exceptions",
                    "raise mapped_exc(message) from exc",
                ),
            ],
        ),
    ),
    "upstream": (
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
    ),
}


def error_record(fault: str, choice: int, **values: str) -> dict[str, str]:
    """One exception for ``fault``: its logger, type, message and a formatted trace."""
    options = ERRORS[fault]
    logger, exc_type, message, frames = options[choice % len(options)]
    message = message.format(**values)
    filled = [(p.format(**values), line, func, code) for p, line, func, code in frames]
    return {
        "logger": logger,
        "type": exc_type,
        "message": message,
        "stacktrace": _trace(filled, f"{exc_type}: {message}" if message else exc_type),
    }
