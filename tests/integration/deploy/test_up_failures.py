"""`healops up` on bad ground: each failure is a clear message, a non-zero exit, and nothing left running."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from healops import paths
from healops.cli import main
from healops.deploy.errors import DeployError
from healops.deploy.processes import server_process
from healops.deploy.stack import StackOptions, up
from healops.local.server import free_port

VERSIONS_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
}
provider "aws" { region = "us-east-1" }
variable "build_dir" { type = string }
"""


def _no_server_left(state_dir: Path) -> None:
    assert server_process(state_dir).running() is None
    assert not server_process(state_dir).pid_file.exists()
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(state_dir) in " ".join(p.info["cmdline"] or [])]


def test_failed_apply_shows_terraform_error_and_stops_the_cloud(tmp_path: Path) -> None:
    source = tmp_path / "tf"
    source.mkdir()
    (source / "versions.tf").write_text(VERSIONS_TF)
    (source / "main.tf").write_text('resource "aws_sqs_queue" "bad" {\n  name = "spaces are not allowed"\n}\n')
    options = StackOptions(port=free_port("127.0.0.1"), state_dir=tmp_path / "state", terraform_dir=source)
    with pytest.raises(DeployError, match=r"tflocal apply.*failed(.|\n)*spaces are not allowed|invalid queue name"):
        up(options)
    _no_server_left(options.state_dir)


def test_missing_provider_says_how_to_point_at_a_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    monkeypatch.setenv("HEALOPS_TF_PLUGIN_MIRROR", str(empty_mirror))
    source = tmp_path / "tf"
    source.mkdir()
    (source / "versions.tf").write_text(VERSIONS_TF)
    options = StackOptions(port=free_port("127.0.0.1"), state_dir=tmp_path / "state", terraform_dir=source)
    with pytest.raises(DeployError, match=r"could not install the AWS provider(.|\n)*HEALOPS_TF_PLUGIN_MIRROR"):
        up(options)
    _no_server_left(options.state_dir)


def test_terraform_missing_is_a_clear_error_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(tmp_path / "state"))
    assert main(["up", "--detach", "--port", str(free_port("127.0.0.1"))]) == 1
    assert "terraform is not on the PATH" in capsys.readouterr().err
    _no_server_left(paths.state_dir())


def test_bad_time_scale_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(tmp_path / "state"))
    assert main(["up", "--detach", "--time-scale", "0"]) == 1
    assert "--time-scale must be a positive number" in capsys.readouterr().err
    _no_server_left(paths.state_dir())
