"""The Step Functions extension: two provider operations and scaled Wait states."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healops.local.context import EmbeddedContext

# The context whose time scale Wait states follow; None when no embedded cloud runs.
_active: EmbeddedContext | None = None
_installed = False


def _diagnostic(code: str, message: str, location: str | None = None) -> dict[str, str]:
    found = {"severity": "ERROR", "code": code, "message": message[:1000]}
    return found if location is None else {**found, "location": location}


def _targets(state: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """(state name, JSON pointer below the state) of every transition ``state`` makes."""
    for key in ("Next", "Default"):
        if key in state:
            yield state[key], f"/{key}"
    for key in ("Choices", "Catch"):
        for index, entry in enumerate(state.get(key) or []):
            if isinstance(entry, dict) and "Next" in entry:
                yield entry["Next"], f"/{key}/{index}/Next"


def transition_problems(scope: dict[str, Any], path: str = "") -> list[dict[str, str]]:
    """MISSING_TRANSITION_TARGET diagnostics of one ``{StartAt, States}`` scope and those nested in it.

    moto's ASL parser checks the grammar only; AWS also refuses a transition to a state its scope
    does not hold, and a state nothing reaches from ``StartAt`` (both with this code).
    """
    states = scope.get("States")
    if not isinstance(states, dict):
        return []
    problems: list[dict[str, str]] = []
    start = scope.get("StartAt")
    if start not in states:
        problems.append(
            _diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'StartAt' target: {start}", f"{path}/StartAt")
        )
    edges: dict[str, list[str]] = {}
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        where = f"{path}/States/{name}"
        edges[name] = []
        for target, pointer in _targets(state):
            if target in states:
                edges[name].append(target)
            else:
                problems.append(
                    _diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {target}", f"{where}{pointer}")
                )
        for index, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                problems.extend(transition_problems(branch, f"{where}/Branches/{index}"))
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                problems.extend(transition_problems(state[key], f"{where}/{key}"))
    reached: set[str] = set()
    frontier = [start] if start in states else []
    while frontier:
        name = frontier.pop()
        if name not in reached:
            reached.add(name)
            frontier.extend(edges.get(name, []))
    problems.extend(
        _diagnostic("MISSING_TRANSITION_TARGET", f'State "{name}" is not reachable.', f"{path}/States/{name}")
        for name in states
        if name not in reached and start in states
    )
    return problems


def validate_definition(definition: str) -> dict[str, Any]:
    """The ValidateStateMachineDefinition answer for ``definition``: OK, or FAIL with diagnostics.

    The shape the Terraform provider reads at plan time: ``result``, and for each problem a
    ``severity``, ``code``, ``message`` and (where known) ``location``.
    """
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        document = json.loads(definition)
    except ValueError as exc:
        problems = [_diagnostic("INVALID_JSON_DESCRIPTION", f"the definition is not JSON: {exc}")]
    else:
        try:
            AmazonStateLanguageParser.parse(definition)
        except Exception as exc:  # the parser raises several kinds; every one is a FAIL diagnostic
            problems = [_diagnostic("SCHEMA_VALIDATION_FAILED", str(exc))]
        else:
            problems = transition_problems(document) if isinstance(document, dict) else []
    return {"result": "FAIL" if problems else "OK", "diagnostics": problems, "truncated": False}


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
