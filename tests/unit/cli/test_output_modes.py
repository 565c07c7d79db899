"""--json output and errors: figures on stdout as JSON, errors on stderr, for status, inject and the benches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from healops.bench.console import FiguresRecord, bench_console, start_record, stop_record
from healops.cli import main
from tests.unit.bench.test_nab_bench import make_corpus


@pytest.fixture
def no_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_a_bench_with_json_prints_one_json_document_of_its_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_corpus(tmp_path / "nab")
    code = main(["bench", "nab", "--data", str(tmp_path / "nab"), "--out", str(tmp_path / "out"), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    document = json.loads(captured.out)  # stdout is the JSON document and nothing else
    assert document["bench"] == "nab" and document["exit_code"] == 0
    assert isinstance(document["figures"]["standard"], float)
    category_table = document["tables"][0]
    assert category_table["rows"] and set(category_table["rows"][0]) == set(category_table["columns"])
    # The usual text still reaches the person running it, on stderr.
    assert f"standard={document['figures']['standard']}" in captured.err


def test_the_record_keeps_tables_as_rows_with_numbers_and_name_value_figures() -> None:
    record = start_record()
    try:
        console = bench_console()
        table = Table("fault", "fixed", "median ticks", title="closed loop")
        table.add_row("error_storm", "1,200", "[green]4.5[/green]")
        with console.capture():
            console.print(table)
            console.print("faults fixed: resolved=9/9 standard=75.5 calls=3")
    finally:
        stop_record()
    assert record.tables == [
        {
            "title": "closed loop",
            "columns": ["fault", "fixed", "median ticks"],
            "rows": [{"fault": "error_storm", "fixed": 1200, "median ticks": 4.5}],
        }
    ]
    assert record.figures == {"standard": 75.5, "calls": 3}
    assert record.lines == ["faults fixed: resolved=9/9 standard=75.5 calls=3"]
    assert FiguresRecord().as_json() == {"figures": {}, "tables": [], "lines": []}


@pytest.mark.usefixtures("no_stack")
@pytest.mark.parametrize("argv", [["status", "--json"], ["inject", "--list", "--json"], ["inject", "--status"]])
def test_without_a_stack_or_an_endpoint_the_error_goes_to_stderr(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no Heal-Ops stack is running" in captured.err and "--endpoint-url" in captured.err


@pytest.mark.usefixtures("no_stack")
def test_an_endpoint_that_does_not_answer_is_named_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inject", "--list", "--json", "--endpoint-url", "http://127.0.0.1:9"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "http://127.0.0.1:9 does not answer" in captured.err


@pytest.mark.parametrize("name", ["nab", "rca"])
def test_a_bench_whose_data_is_missing_says_so_in_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A clone without the benchmark data beside it: the layout accepted, on stderr, no traceback.
    assert main(["bench", name, "--data", str(tmp_path / "absent"), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"error: healops bench {name}: ") and "must" in captured.err


@pytest.mark.usefixtures("no_stack")
def test_a_missing_extra_is_named_with_the_install_that_brings_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An installation without the dashboard extra: flask cannot be imported.
    for name in [name for name in sys.modules if name.startswith("healops.dashboard")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "flask", None)
    assert main(["dashboard", "--endpoint-url", "http://127.0.0.1:9"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "needs flask" in captured.err and "pip install 'healops[dashboard]'" in captured.err


@pytest.mark.parametrize("command", [["status"], ["inject", "--list"]])
def test_status_and_inject_run_on_the_core_install_without_the_extras(command: list[str], tmp_path: Path) -> None:
    # `pip install healops` (no extras): moto, werkzeug, flask, croniter and the LLM SDKs cannot be imported.
    blocked = ("moto", "werkzeug", "flask", "flask_wtf", "croniter", "openai", "google.genai", "matplotlib")
    script = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from healops.cli import main\n"
        f"sys.exit(main({[*command, '--endpoint-url', 'http://127.0.0.1:9']!r}))\n"
    )
    env = {**os.environ, "HEALOPS_STATE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "http://127.0.0.1:9 does not answer" in proc.stderr
