"""Injector: injects and clears faults in the simulated fleet, lists the catalog, shows status.

Payload: ``{"action": "inject" | "clear" | "list" | "status" | "chaos" | "seed", "service": ...,
"fault": ..., "params": {...}, "duration_s": ...}``. Bad input raises (a Lambda FunctionError)
with a message naming the field and what is accepted, and changes nothing. The logic lives in
:mod:`healops.fleet.injector`.
"""

from __future__ import annotations

from typing import Any

import boto3
from pydantic import ValidationError

from healops import config
from healops.fleet.injector import Injector, InjectorError
from healops.logs import function_logger, redact_errors
from healops.models import InjectorRequest, describe_validation_error
from healops.store.fleet import FleetRepository
from healops.store.injections import InjectionsRepository

logger = function_logger()

DEFAULT_CHAOS_RATE = 0.5


class InvalidInjectorRequestError(ValueError):
    """The payload is not a valid injector request, or the fleet refuses it; nothing was changed."""


def build_injector(settings: config.Settings, dynamodb: Any | None = None) -> Injector:
    client = dynamodb if dynamodb is not None else boto3.client("dynamodb")
    return Injector(
        FleetRepository(settings.require("fleet_table"), client),
        InjectionsRepository(settings.require("injections_table"), client),
        settings.clock(),
        seed=settings.fleet_seed,
        chaos_rate=DEFAULT_CHAOS_RATE,
    )


@redact_errors
def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        request = InjectorRequest.model_validate(event)
    except ValidationError as exc:
        raise InvalidInjectorRequestError(f"invalid injector request: {describe_validation_error(exc)}") from None
    logger.info(
        "injector request", extra={"action": request.action, "service": request.service, "fault": request.fault}
    )
    try:
        return build_injector(config.current()).handle(request)
    except InjectorError as exc:
        logger.warning("injector request refused", extra={"action": request.action, "error": str(exc)})
        raise InvalidInjectorRequestError(f"{request.action} refused: {exc}") from None
