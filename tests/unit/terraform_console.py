"""``terraform console`` on a copy of terraform/: what Terraform itself evaluates an expression to (offline init
from the machine's provider mirror; the tests using it skip without one)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from healops import paths
from tests.unit.test_terraform import FUNCTIONS, TERRAFORM_DIR, _mirror_root, terraform_bin


def terraform_console(tmp_path: Path) -> Callable[..., str]:
    """``evaluate(expression, *args)``: the last line ``terraform console`` prints for ``expression`` with the
    extra arguments (``-var k=v``), on a copy of terraform/ initialised in ``tmp_path``."""
    assert terraform_bin is not None
    workdir = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.lock.hcl"))
    build_dir = tmp_path / "build"
    build_dir.mkdir()
    for function in FUNCTIONS:
        (build_dir / f"{function}.zip").write_bytes(b"")  # hashed by functions.tf, never read otherwise
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{_mirror_root()}"\n  }}\n}}\n'
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1"}
    init = subprocess.run(
        [terraform_bin, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    # The working copy sits elsewhere: the files terraform/ reads are named absolutely, as `healops up` does.
    paths_vars = [
        *("-var", f"build_dir={build_dir}", "-var", f"fleet_definition_file={paths.FLEET_DEFINITION_FILE}"),
        *("-var", f"remediation_policy_defaults_file={paths.REMEDIATION_POLICY_FILE}"),
    ]

    def evaluate(expression: str, *variables: str) -> str:
        result = subprocess.run(
            [terraform_bin, "console", "-no-color", *paths_vars, *variables],
            cwd=workdir,
            env=env,
            input=f"{expression}\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0 and "Error" not in result.stderr, result.stdout + result.stderr
        return result.stdout.strip().splitlines()[-1]

    return evaluate
