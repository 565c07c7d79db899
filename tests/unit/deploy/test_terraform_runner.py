"""The tflocal runner's offline plumbing: mirror discovery, CLI config, working copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from healops.deploy import terraform
from healops.deploy.errors import DeployError
from healops.deploy.terraform import TerraformRunner, find_provider_mirror, write_cli_config


def test_mirror_from_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(terraform.PROVIDER_MIRROR_ENV, str(tmp_path))
    assert find_provider_mirror() == tmp_path


def test_mirror_found_by_glob_is_the_folder_holding_the_registry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(terraform.PROVIDER_MIRROR_ENV, raising=False)
    (tmp_path / "plugins" / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    monkeypatch.setattr(terraform, "_MIRROR_GLOBS", (str(tmp_path / "*" / "registry.terraform.io"),))
    assert find_provider_mirror() == tmp_path / "plugins"


def test_no_mirror_means_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(terraform.PROVIDER_MIRROR_ENV, raising=False)
    monkeypatch.setattr(terraform, "_MIRROR_GLOBS", (str(tmp_path / "nothing-here"),))
    assert find_provider_mirror() is None
    config = write_cli_config(tmp_path / "rc", None).read_text()
    assert "filesystem_mirror" not in config


def test_cli_config_names_the_mirror(tmp_path: Path) -> None:
    config = write_cli_config(tmp_path / "rc", Path("/opt/tf-plugins")).read_text()
    assert 'filesystem_mirror {\n    path = "/opt/tf-plugins"' in config


def _runner(tmp_path: Path) -> TerraformRunner:
    source = tmp_path / "src"
    (source / "modules" / "m").mkdir(parents=True)
    (source / "main.tf").write_text("# main\n")
    (source / "modules" / "m" / "main.tf").write_text("# module\n")
    (source / "terraform.tfstate").write_text("{}")  # a stray state in the source tree is not copied
    return TerraformRunner(
        source_dir=source,
        work_dir=tmp_path / "work",
        endpoint_url="http://127.0.0.1:1",
        tflocal=tmp_path / "tflocal",
        variables={"build_dir": "/b"},
    )


def test_prepare_copies_sources_and_variables_but_not_state(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    runner.prepare(fresh_state=True)
    work = tmp_path / "work"
    assert (work / "main.tf").read_text() == "# main\n"
    assert (work / "modules" / "m" / "main.tf").exists()
    assert not (work / "terraform.tfstate").exists()
    assert '"build_dir": "/b"' in (work / "healops.auto.tfvars.json").read_text()


def test_prepare_keeps_state_unless_fresh_and_drops_removed_files(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    runner.prepare(fresh_state=True)
    work = tmp_path / "work"
    (work / "terraform.tfstate").write_text('{"serial": 3}')
    (work / "old.tf").write_text("# removed from the source since\n")
    runner.prepare(fresh_state=False)
    assert (work / "terraform.tfstate").read_text() == '{"serial": 3}'
    assert not (work / "old.tf").exists()
    runner.prepare(fresh_state=True)
    assert not (work / "terraform.tfstate").exists()


def test_failed_command_raises_with_its_output(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    runner.prepare(fresh_state=True)
    script = tmp_path / "tflocal"
    script.write_text("#!/bin/sh\necho 'Error: something specific went wrong'\nexit 1\n")
    script.chmod(0o755)
    with pytest.raises(DeployError, match="something specific went wrong"):
        runner.run("apply")


def test_stale_override_file_is_removed_before_running(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    runner.prepare(fresh_state=True)
    override = tmp_path / "work" / terraform.OVERRIDE_FILE
    override.write_text("# left by an interrupted run\n")
    script = tmp_path / "tflocal"
    script.write_text(f"#!/bin/sh\ntest ! -e {override}\n")
    script.chmod(0o755)
    assert runner.run("plan", check=False) == 0
