"""Injector: validates a fault-injection request before anything changes.

Accepted: ``{"action": "inject" | "clear" | "list" | "status" | "chaos", "service": ...,
"fault": ..., "parameters": {...}}``. ``list`` answers the supported actions. The fleet and the
fault catalog are not deployed yet, so the other actions fail with an error that says so.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from healops.models import INJECTOR_ACTIONS, InjectorRequest, describe_validation_error

logger = Logger()


class InvalidInjectorRequestError(ValueError):
    """The payload is not a valid injector request; nothing was changed."""


class FaultInjectionUnavailableError(RuntimeError):
    """The request is valid but the fleet it would act on does not exist yet."""


def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        request = InjectorRequest.model_validate(event)
    except ValidationError as exc:
        raise InvalidInjectorRequestError(f"invalid injector request: {describe_validation_error(exc)}") from None
    logger.info("injector request", extra={"action": request.action, "service": request.service})
    if request.action == "list":
        return {"actions": list(INJECTOR_ACTIONS)}
    raise FaultInjectionUnavailableError(
        f"fault injection is not available yet: the fleet is not deployed (action {request.action!r})"
    )
