"""An incident's signals as a table: the columns a reader looks for, in words and units, not a JSON dump.

Signals are stored as the detector wrote them (healops/detection/signals.py ``Signal.as_dict``) or, for a
hand-made incident, anything; known fields get a column each and the rest one cell of ``key=value`` pairs.
Every cell is a plain string: the template escapes it like any other stored text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from healops.dashboard.charts import unit_of
from healops.dashboard.summaries import format_duration

# (field, heading) in the order shown; a column appears only when some signal has the field.
COLUMNS = (
    ("service", "service"),
    ("kind", "signal"),
    ("metric", "metric"),
    ("value", "value"),
    ("baseline", "baseline"),
    ("score", "score"),
    ("strong", "strong"),
    ("eta_s", "exhaustion in"),
    ("tick", "tick"),
    ("detail", "detail"),
)
SHOWN_ELSEWHERE = frozenset({"predicted", "eta_low_s", "eta_high_s"})  # folded into "exhaustion in"


@dataclass(frozen=True)
class SignalTable:
    headings: list[str]
    rows: list[list[str]]


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _cell(name: str, signal: Mapping[str, Any]) -> str:
    value = signal.get(name)
    if value is None:
        return ""
    if name in ("value", "baseline"):
        unit = unit_of(str(signal.get("metric") or ""))
        return f"{_number(value)} {unit}".strip() if unit and not unit.startswith("up") else _number(value)
    if name == "strong":
        return "yes" if value else "no"
    if name == "eta_s":
        low, high = signal.get("eta_low_s"), signal.get("eta_high_s")
        spread = f" ({format_duration(low)} to {format_duration(high)})" if low is not None and high is not None else ""
        return f"{format_duration(float(value))}{spread}"
    return _number(value)


def signal_table(signals: Sequence[Any]) -> SignalTable:
    """Headings and rows of ``signals``; a signal that is not a mapping shows as its text in the detail column."""
    mappings = [s if isinstance(s, Mapping) else {"detail": str(s)} for s in signals]
    present = [(name, heading) for name, heading in COLUMNS if any(name in s for s in mappings)]
    known = {name for name, _ in COLUMNS} | SHOWN_ELSEWHERE
    extra = any(set(s) - known for s in mappings)
    headings = [heading for _, heading in present] + (["other"] if extra else [])
    rows = []
    for s in mappings:
        row = [_cell(name, s) for name, _ in present]
        if extra:
            row.append(", ".join(f"{k}={_number(v)}" for k, v in s.items() if k not in known))
        rows.append(row)
    return SignalTable(headings, rows)
