"""Turn a pydantic ValidationError into one line that names each bad field and what is accepted."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError


def describe_validation_error(exc: ValidationError, accepted: Callable[[str], str] | None = None) -> str:
    """``field: what is wrong (got <value>)`` for each error, joined by ``; ``; with ``accepted``,
    ``(got <value>; accepted: <accepted(field)>)``."""
    parts = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "(the whole payload)"
        got = repr(error.get("input"))
        if len(got) > 80:
            got = got[:77] + "..."
        if accepted is not None:
            got += f"; accepted: {accepted(field)}"
        parts.append(f"{field}: {error['msg']} (got {got})")
    return "; ".join(parts)
