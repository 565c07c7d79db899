"""The Step Functions extension: two provider operations and scaled Wait states."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healops.local.context import EmbeddedContext

# The context whose time scale Wait states follow; None when no embedded cloud runs.
_active: EmbeddedContext | None = None
_installed = False


def validate_definition(definition: str) -> dict[str, Any]:
    """The ValidateStateMachineDefinition answer for ``definition``."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:  # the parser raises several kinds; every one is a FAIL diagnostic
        return {
            "result": "FAIL",
            "diagnostics": [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": str(exc)[:1000]}],
            "truncated": False,
        }
    return {"result": "OK", "diagnostics": [], "truncated": False}


def _validate_state_machine_definition(self: Any) -> str:
    return json.dumps(validate_definition(self._get_param("definition") or ""))


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _list_state_machine_versions(self: Any) -> str:
    arn = self._get_param("stateMachineArn")
    machine = self.stepfunction_backend.describe_state_machine(arn)
    versions = [
        {"stateMachineVersionArn": version.arn, "creationDate": _epoch(version.creation_date)}
        for _, version in sorted(getattr(machine, "versions", {}).items(), reverse=True)
    ]
    return json.dumps({"stateMachineVersions": versions})


def _scaled_wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    scale = _active.time_scale if _active is not None else 1.0
    deadline = time.monotonic() + max(wait_seconds, 0) / scale
    # Wake early only when the execution stops; any other wake-up resumes the wait.
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)


class StepFunctionsExtras:
    name = "stepfunctions"

    def install(self, ctx: EmbeddedContext) -> None:
        global _active, _installed
        _active = ctx
        if _installed:
            return
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
            WaitFunction,
        )
        from moto.stepfunctions.responses import StepFunctionResponse

        StepFunctionResponse.validate_state_machine_definition = _validate_state_machine_definition
        StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions
        WaitFunction._wait_interval = _scaled_wait_interval
        _installed = True

    def start(self, ctx: EmbeddedContext) -> None:
        return None

    def stop(self) -> None:
        global _active
        _active = None
