"""The benchmarks' console: the same width in a pipe as in a terminal, long lines left whole."""

from __future__ import annotations

from rich.table import Table

from healops.bench.console import BENCH_WIDTH, bench_console


def test_a_score_line_longer_than_the_console_stays_one_line() -> None:
    console = bench_console()
    line = "standard=75.5 " * 20  # 280 characters
    with console.capture() as captured:
        console.print(line)
    assert captured.get() == line + "\n"


def test_a_wide_table_keeps_its_headers_on_one_row_when_piped() -> None:
    console = bench_console()  # pytest's output is not a terminal: rich alone would wrap at 80
    table = Table()
    for header in ("provider", "plans", "model requests / incident", "prompt tokens / incident", "latency p50 / p95"):
        table.add_column(header)
    table.add_row("offline", "45", "0.00", "0", "0.6 / 0.8")
    with console.capture() as captured:
        console.print(table)
    rows = captured.get().splitlines()
    assert console.width == BENCH_WIDTH
    assert any("model requests / incident" in row and "latency p50 / p95" in row for row in rows)
