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
    for name in ("detector", "remediator", "injector", "metrics_generator"):
        assert name in shown
    assert "success" in shown  # the tick has run metrics_generator by now
