"""What a target receives: the event, or its Input / InputPath / InputTransformer result.

Pure logic, no moto. Follows EventBridge's documented rules:

- no input setting: the whole event, as JSON;
- ``Input``: that constant JSON text, as given;
- ``InputPath``: the part of the event the JSONPath selects, as JSON (``null`` if nothing);
- ``InputTransformer``: each ``<name>`` in ``InputTemplate`` is replaced by the value the
  ``InputPathsMap`` path selects. Inside double quotes a value goes in as string content
  (a string as is, anything else as its JSON, escaped); outside quotes it goes in as JSON
  (a string becomes a quoted JSON string). A path that selects nothing gives ``null``
  outside quotes and an empty string inside. Predefined placeholders:
  ``<aws.events.rule-arn>``, ``<aws.events.rule-name>``,
  ``<aws.events.event.ingestion-time>`` (ISO 8601), ``<aws.events.event>`` (the event
  without ``detail``) and ``<aws.events.event.json>`` (the whole event); the last two are
  inserted unescaped, as on AWS. A template that is not JSON-shaped (does not start with
  ``{``, ``[`` or ``"``, e.g. ``<instance> is <state>``) is plain text: values go in raw.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as parse_json_path

__all__ = ["InputTransformError", "event_time_iso", "render_target_input"]


class InputTransformError(ValueError):
    """A target's Input, InputPath or InputTransformer cannot be applied to the event."""


_PLACEHOLDER_RE = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_UNESCAPED_PLACEHOLDERS = ("aws.events.event", "aws.events.event.json")


def event_time_iso(value: Any) -> str:
    """An event ``time`` as EventBridge writes it (``2026-01-02T03:04:05Z``).

    moto keeps ``time`` as epoch seconds internally; callers may already hold a string.
    """
    if isinstance(value, str):
        return value
    return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _select(event: dict[str, Any], path: str, where: str) -> list[Any]:
    try:
        expression = parse_json_path(path)
    except (JsonPathParserError, Exception) as exc:  # jsonpath-ng raises several kinds
        raise InputTransformError(f"{where}: {path!r} is not a JSONPath (e.g. $.detail.state): {exc}") from exc
    return [found.value for found in expression.find(event)]


def render_target_input(
    target: dict[str, Any],
    event: dict[str, Any],
    *,
    rule_arn: str,
    rule_name: str,
    ingestion_time: str,
) -> str:
    """The text delivered to ``target`` for ``event`` (a delivered-shape event, ISO time)."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        found = _select(event, target["InputPath"], "InputPath")
        return json.dumps(found[0] if found else None)
    transformer = target.get("InputTransformer")
    if transformer:
        return _render_template(transformer, event, rule_arn, rule_name, ingestion_time)
    return json.dumps(event)


def _render_template(
    transformer: dict[str, Any],
    event: dict[str, Any],
    rule_arn: str,
    rule_name: str,
    ingestion_time: str,
) -> str:
    template = transformer.get("InputTemplate")
    if not isinstance(template, str):
        raise InputTransformError("InputTransformer: InputTemplate is required and must be a string")
    values: dict[str, Any] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found = _select(event, path, f"InputTransformer.InputPathsMap[{name!r}]")
        values[name] = found[0] if found else None
    event_without_detail = {key: value for key, value in event.items() if key != "detail"}
    predefined: dict[str, Any] = {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.ingestion-time": ingestion_time,
        "aws.events.event": event_without_detail,
        "aws.events.event.json": event,
    }

    plain_text = not template.lstrip().startswith(("{", "[", '"'))

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name in values:
            value = values[name]
        elif name in predefined:
            value = predefined[name]
        else:
            return match[0]  # not a placeholder of ours: EventBridge leaves it as written
        if name in _UNESCAPED_PLACEHOLDERS and name not in values:
            return json.dumps(value)
        if plain_text:
            return "" if value is None else value if isinstance(value, str) else json.dumps(value)
        if _inside_quotes(match.string, match.start()):
            if value is None:
                return ""
            text = value if isinstance(value, str) else json.dumps(value)
            return json.dumps(text)[1:-1]  # escaped string content without its quotes
        return json.dumps(value)

    return _PLACEHOLDER_RE.sub(replace, template)


def _inside_quotes(text: str, position: int) -> bool:
    """Whether ``position`` of ``text`` falls inside a double-quoted JSON string."""
    inside = False
    escaped = False
    for char in text[:position]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = inside
        elif char == '"':
            inside = not inside
    return inside
