"""The commands the README shows, run against the session's stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from healops.cli import main
from healops.deploy import health
from healops.deploy.stack import StackInfo, StackOptions

BIN = Path(sys.executable).parent


def test_stack_is_healthy(stack: StackInfo) -> None:
    verdict = health.check(stack.endpoint_url, stack.outputs)
    assert verdict.healthy, verdict.problems


def test_readme_injector_command_works_with_the_venvs_awslocal(stack: StackInfo, tmp_path: Path) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.endpoint_url, "AWS_DEFAULT_REGION": "us-east-1"}
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [
            str(BIN / "awslocal"),
            "lambda",
            "invoke",
            "--function-name",
            "injector",
            "--payload",
            '{"action": "list"}',
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["StatusCode"] == 200
    assert "list" in json.loads(out.read_text())["actions"]
    assert "deprecated" not in proc.stderr  # awscli-local 0.23 printed a 15-line notice on every call


def test_status_shows_endpoint_health_and_function_invocations(
    stack: StackInfo, stack_options: StackOptions, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(stack_options.state_dir))
    monkeypatch.setenv("COLUMNS", "200")  # rich sizes tables to the terminal; pytest has none
    assert main(["status"]) == 0
    shown = capsys.readouterr().out
    assert stack.endpoint_url in shown and "healthy" in shown
    for name in ("detector", "remediator", "planner", "injector", "metrics_generator"):
        assert name in shown
    assert "success" in shown  # the tick has run metrics_generator by now


def test_status_json_is_one_document_of_the_same_facts(
    stack: StackInfo, stack_options: StackOptions, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(stack_options.state_dir))
    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["endpoint_url"] == stack.endpoint_url and report["endpoint_from"] == "healops up"
    assert report["healthy"] is True and report["problems"] == []
    functions = {row["function"]: row for row in report["functions"]}
    assert set(functions) == {"detector", "remediator", "planner", "injector", "metrics_generator", "notifier"}
    assert functions["metrics_generator"]["outcome"] == "success"


def test_status_and_inject_work_outside_a_checkout_against_an_endpoint(
    stack: StackInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No state directory of a `healops up` here: the stack is found by its discovery document at the endpoint.
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert main(["status", "--json", "--endpoint-url", stack.endpoint_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["endpoint_from"] == "--endpoint-url" and report["healthy"] is True
    assert len(report["functions"]) == 6

    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.endpoint_url)
    assert main(["inject", "--list", "--json"]) == 0
    catalog = json.loads(capsys.readouterr().out)
    assert "memory_leak" in json.dumps(catalog) and "checkout" in json.dumps(catalog)
    assert main(["inject", "--status", "checkout", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["service"] == "checkout"


def test_an_endpoint_without_the_stack_is_named_on_stderr(
    stack: StackInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(tmp_path / "elsewhere"))
    assert main(["inject", "--list", "--endpoint-url", stack.endpoint_url, "--name-prefix", "nothere"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "SSM parameter /nothere/stack not found" in captured.err
