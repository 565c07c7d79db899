"""The benchmarks' console: figures read the same in a terminal, a pipe or a CI log, or as JSON.

Rich wraps at 80 columns when the output is not a terminal, which folds the wider tables into
unreadable cells; a benchmark's output is usually piped or logged, so it gets a fixed width and
text that would not fit is left long rather than wrapped.

With ``healops bench NAME --json`` the console also keeps what the bench prints (:class:`FiguresRecord`): each
table as rows keyed by column, each line of text, and every ``name=number`` figure in those lines, which the
dispatcher writes as one JSON document when the bench returns. The benches print their figures once, for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

BENCH_WIDTH = 160

# A cell or figure that is a number as printed: 1,234 / -0.5 / 12.0 (units and ratios stay text).
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
# name=number figures in a line, e.g. NAB's "standard=75.5 reward_low_FP_rate=70.8", "resolved=9/9" stays text.
_FIGURE = re.compile(r"(?<!\S)([A-Za-z_][\w-]*)=(-?\d[\d,]*(?:\.\d+)?)(?!\S)")


def as_value(text: str) -> Any:
    """A printed cell as JSON: a number when it is one (thousands separators dropped), else the text."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        number = stripped.replace(",", "")
        return float(number) if "." in number else int(number)
    return stripped


def _plain(renderable: Any) -> str:
    if isinstance(renderable, Text):
        return renderable.plain
    return Text.from_markup(renderable).plain if isinstance(renderable, str) else str(renderable)


@dataclass
class FiguresRecord:
    """What a bench printed, as JSON-ready data."""

    tables: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def add(self, renderable: Any) -> None:
        if isinstance(renderable, Table):
            self.tables.append(table_as_json(renderable))
        elif isinstance(renderable, str | Text):
            for line in _plain(renderable).splitlines():
                if line.strip():
                    self.lines.append(line)
                    self.figures.update((name, as_value(value)) for name, value in _FIGURE.findall(line))

    def as_json(self) -> dict[str, Any]:
        return {"figures": self.figures, "tables": self.tables, "lines": self.lines}


def table_as_json(table: Table) -> dict[str, Any]:
    columns = [_plain(column.header) for column in table.columns]
    cells = [[as_value(_plain(cell)) for cell in column.cells] for column in table.columns]
    rows = [dict(zip(columns, row, strict=True)) for row in zip(*cells, strict=True)]
    return {"title": _plain(table.title) if table.title else None, "columns": columns, "rows": rows}


_record: FiguresRecord | None = None


def start_record() -> FiguresRecord:
    """Keep what every bench console prints from now on (``--json``); returns the record to write at the end."""
    global _record
    _record = FiguresRecord()
    return _record


def stop_record() -> None:
    global _record
    _record = None


class BenchConsole(Console):
    """Rich's console that also hands what it prints to the record, when ``--json`` started one."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if _record is not None:
            for renderable in objects:
                _record.add(renderable)
        super().print(*objects, **kwargs)


def bench_console() -> Console:
    return BenchConsole(width=BENCH_WIDTH, soft_wrap=True)
