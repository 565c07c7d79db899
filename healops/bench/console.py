"""The benchmarks' console: figures read the same in a terminal, a pipe or a CI log.

Rich wraps at 80 columns when the output is not a terminal, which folds the wider tables into
unreadable cells; a benchmark's output is usually piped or logged, so it gets a fixed width and
text that would not fit is left long rather than wrapped.
"""

from __future__ import annotations

from rich.console import Console

BENCH_WIDTH = 160


def bench_console() -> Console:
    return Console(width=BENCH_WIDTH, soft_wrap=True)
