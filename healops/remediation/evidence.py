"""What the planner sees besides metrics: the signals that opened the incident, a few of the service's log
lines, and the dependency graph around it.

- :func:`incident_signals`: the detector's signals stored on the incident record, strongest first.
- :class:`ServiceLogs`: one FilterLogEvents call on ``<prefix>/<service>`` around the incident; error lines
  first, one line per distinct message, bounded in count and length, redacted. Log text is untrusted: the
  prompt quotes, truncates and redacts it again and marks it as data (healops/llm/prompt.py).
- :func:`graph_around`: the incident's service, its dependencies and its dependents, with the edges among them.

A read that fails (no log group yet, throttled, denied) costs the planner its log lines, never the plan.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from healops.llm.prompt import quote_untrusted
from healops.llm.redaction import redact
from healops.llm.types import LogExcerpt, SignalSummary
from healops.models.incident import SERVICE_NAME_PATTERN
from healops.store.incidents import IncidentRecord

logger = logging.getLogger(__name__)

MAX_SIGNALS = 8
MAX_LOG_LINES = 6
MAX_LOG_CHARS = 400  # kept per line here; the prompt keeps 240 of them
LOG_EVENTS_READ = 100  # one FilterLogEvents page: the events scanned for those lines
MAX_MESSAGE_CHARS = 20_000  # longer events are not parsed as JSON, only cut
# Error lines first, then warnings, then the rest.
LEVEL_RANK = {"CRITICAL": 0, "FATAL": 0, "ERROR": 0, "WARNING": 1, "WARN": 1}
_SERVICE = re.compile(SERVICE_NAME_PATTERN)
# A message's shape: ids, hex and numbers out, so a line repeated with other values counts once. (The
# detector's own normaliser lives with the detectors, which the remediator's package does not carry.)
_SHAPE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]*\d[0-9a-fA-F]*\b")
SHAPE_CHARS = 300


def message_shape(line: str) -> str:
    return " ".join(_SHAPE.sub("#", line[:SHAPE_CHARS]).split())


def incident_signals(record: IncidentRecord | None, limit: int = MAX_SIGNALS) -> list[SignalSummary]:
    """The signals on the incident record (the detector's ``SignalSummary.as_dict()``), strongest first.

    A signal is named by its metric, or by its detector kind when it has none (burn_rate, error_storm);
    the kind stays in its detail. Entries that do not fit the reasoner's model are skipped.
    """
    if record is None:
        return []
    ranked = sorted(
        (s for s in record.signals if isinstance(s, Mapping)),
        key=lambda s: (not s.get("strong", False), -_number(s.get("score"), 0.0)),
    )
    found: list[SignalSummary] = []
    for raw in ranked:
        kind = str(raw.get("kind", ""))[:64]
        name = str(raw.get("metric") or kind)[:64]
        detail = str(raw.get("detail", ""))
        try:
            found.append(
                SignalSummary(
                    name=name or "signal",
                    service=str(raw.get("service", record.service)),
                    score=_number(raw.get("score"), 0.0),
                    value=_number(raw.get("value"), None),
                    detail=f"{kind}: {detail}"[:500] if kind else detail[:500],
                )
            )
        except ValidationError:
            logger.info("signal skipped: it does not fit the reasoner's model", extra={"kind": kind})
        if len(found) >= limit:
            break
    return found


def _number(value: Any, default: float | None) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class LogReader(Protocol):
    def excerpts(self, service: str, start: float, end: float) -> list[LogExcerpt]:
        """Up to a few of ``service``'s log lines between ``start`` and ``end`` (epoch seconds)."""
        ...


@dataclass
class ServiceLogs:
    """Log excerpts of a fleet service from its log group ``<log_group_prefix>/<service>``."""

    logs_client: Any
    log_group_prefix: str = "/healops/services"
    max_lines: int = MAX_LOG_LINES
    max_chars: int = MAX_LOG_CHARS
    events_read: int = LOG_EVENTS_READ

    def excerpts(self, service: str, start: float, end: float) -> list[LogExcerpt]:
        if not _SERVICE.match(service):
            return []
        group = f"{self.log_group_prefix.rstrip('/')}/{service}"
        try:
            # One call, one page: the plan needs a few lines, and FilterLogEvents has a small account-wide rate.
            response = self.logs_client.filter_log_events(
                logGroupName=group,
                startTime=int(start * 1000),
                endTime=int(end * 1000),
                limit=self.events_read,
            )
        except Exception as exc:  # no log group yet, throttled, denied: plan without log lines
            logger.warning("log excerpts of %s not read (%s)", service, type(exc).__name__)
            return []
        return pick_excerpts(service, response.get("events", []), self.max_lines, self.max_chars)


def pick_excerpts(
    service: str, events: Sequence[Mapping[str, Any]], max_lines: int, max_chars: int
) -> list[LogExcerpt]:
    """Error lines first (then warnings, then the rest), newest first within a level, one line per distinct
    message; each redacted and cut to ``max_chars``; returned oldest first, as logs read."""
    candidates: list[tuple[int, int, str, str, str | None]] = []  # (rank, -timestamp, key, line, at)
    for event in events:
        level, line, at = _line_of(str(event.get("message", "")))
        stamp = int(event.get("timestamp", 0) or 0)
        candidates.append((LEVEL_RANK.get(level, 2), -stamp, message_shape(line), line, at))
    chosen: list[tuple[int, str, str | None]] = []
    seen: set[str] = set()
    for _rank, negative_stamp, key, line, at in sorted(candidates, key=lambda c: (c[0], c[1])):
        if key in seen:
            continue
        seen.add(key)
        chosen.append((-negative_stamp, line, at))
        if len(chosen) >= max_lines:
            break
    return [
        LogExcerpt(service=service, line=quote_untrusted(line, redact, max_chars), at=at)
        for _, line, at in sorted(chosen, key=lambda c: c[0])
    ]


def _line_of(message: str) -> tuple[str, str, str | None]:
    """(level, one line of text, ISO time) of a log event: a JSON record's level and message (and its
    exception's type when the message lacks it), or the raw text."""
    record: Any = None
    if len(message) <= MAX_MESSAGE_CHARS:
        try:
            record = json.loads(message)
        except ValueError:
            record = None
    if not isinstance(record, dict):
        level = next((name for name in LEVEL_RANK if name in message[:200].upper()), "")
        return level, message[:MAX_MESSAGE_CHARS], None
    level = str(record.get("level", "")).upper()
    text = str(record.get("message", ""))
    exception = record.get("exception")
    if isinstance(exception, Mapping) and str(exception.get("type", "")) not in text:
        said = ": ".join(str(exception[k]) for k in ("type", "message") if exception.get(k))
        text = f"{text} ({said})"
    stamp = record.get("timestamp")
    return level, f"{level} {text}".strip(), str(stamp)[:40] if stamp else None


def graph_around(graph: Mapping[str, Sequence[str]], service: str) -> dict[str, list[str]]:
    """``service``, its dependencies and its dependents (one hop each way), each with its dependencies
    among them: what the planner may reason about, and act on."""
    depends_on = list(graph.get(service, ()))
    dependents = sorted(name for name, deps in graph.items() if service in deps)
    nodes = [service, *depends_on, *(d for d in dependents if d not in depends_on)]
    members = set(nodes)
    return {name: [d for d in graph.get(name, ()) if d in members] for name in nodes}
