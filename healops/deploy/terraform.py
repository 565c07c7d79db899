"""Run Terraform through tflocal against a local endpoint, offline where a provider mirror exists.

The source ``terraform/`` is copied into a working directory under the state directory so that
tflocal's generated ``localstack_providers_override.tf``, ``.terraform/`` and the state never
land in the source tree; a fresh embedded cloud (which starts empty) starts from empty state,
and a restored one keeps the state that describes it.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healops.deploy.errors import DeployError

logger = logging.getLogger(__name__)

PROVIDER_MIRROR_ENV = "HEALOPS_TF_PLUGIN_MIRROR"
OVERRIDE_FILE = "localstack_providers_override.tf"
_MIRROR_GLOBS = ("/opt/*/registry.terraform.io", "/usr/share/terraform/plugins/registry.terraform.io")
_COPY_IGNORE = shutil.ignore_patterns(".terraform", "*.tfstate*", OVERRIDE_FILE, ".terraform.lock.hcl")


def find_provider_mirror() -> Path | None:
    """The filesystem mirror root holding ``registry.terraform.io/hashicorp/aws``, if any."""
    explicit = os.environ.get(PROVIDER_MIRROR_ENV)
    if explicit:
        return Path(explicit)
    for pattern in _MIRROR_GLOBS:
        for registry in sorted(glob.glob(pattern)):
            if (Path(registry) / "hashicorp" / "aws").is_dir():
                return Path(registry).parent
    return None


def write_cli_config(path: Path, mirror: Path | None) -> Path:
    """A Terraform CLI config installing providers from ``mirror`` (the registry if None)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mirror is None:
        path.write_text("# no filesystem mirror found: providers come from the registry\n")
    else:
        path.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n')
    return path


def check_tools(tflocal: Path) -> None:
    """Fail early, with the remedy, when terraform or tflocal is missing."""
    if shutil.which("terraform") is None:
        raise DeployError(
            "terraform is not on the PATH: install Terraform >= 1.11 "
            "(https://developer.hashicorp.com/terraform/install) and run again"
        )
    if not tflocal.exists():
        raise DeployError(f"tflocal not found at {tflocal}: run `make install` first")


@dataclass
class TerraformRunner:
    """tflocal in one working directory, pointed at one endpoint."""

    source_dir: Path
    work_dir: Path
    endpoint_url: str
    tflocal: Path
    variables: Mapping[str, Any]
    region: str = "us-east-1"
    # Sensitive variables (API keys): given to tflocal as TF_VAR_<name>, never written to a file.
    secret_variables: Mapping[str, str] = field(default_factory=dict)

    def prepare(self, fresh_state: bool) -> None:
        """Copy the source tree in (keeping ``.terraform/`` for speed); drop state if ``fresh_state``."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for entry in self.work_dir.iterdir():
            if entry.name == ".terraform" or (entry.name.startswith("terraform.tfstate") and not fresh_state):
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        shutil.copytree(self.source_dir, self.work_dir, ignore=_COPY_IGNORE, dirs_exist_ok=True)
        (self.work_dir / "healops.auto.tfvars.json").write_text(json.dumps(dict(self.variables), indent=2))

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "S3_HOSTNAME": "localhost",
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_DEFAULT_REGION": self.region,
                "TF_CLI_CONFIG_FILE": str(write_cli_config(self.work_dir / ".terraformrc", find_provider_mirror())),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "DISABLE_DEPRECATION_NOTICE": "1",
                "CHECKPOINT_DISABLE": "1",
            }
        )
        env.update({f"TF_VAR_{name}": value for name, value in self.secret_variables.items()})
        return env

    def run(self, *args: str, on_line: Callable[[str], None] | None = None, check: bool = True) -> int:
        """Run ``tflocal <args>``, streaming each output line to ``on_line``; raise on failure if ``check``."""
        # tflocal refuses to start while an override file from an interrupted run exists.
        (self.work_dir / OVERRIDE_FILE).unlink(missing_ok=True)
        cmd = [str(self.tflocal), *args]
        logger.info("running %s in %s", " ".join(cmd), self.work_dir)
        log_path = self.work_dir / "last-run.log"
        tail: list[str] = []
        with (
            log_path.open("w") as log,
            subprocess.Popen(
                cmd,
                cwd=self.work_dir,
                env=self.env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            ) as proc,
        ):
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                tail = [*tail[-39:], line.rstrip()]
                if on_line is not None:
                    on_line(line.rstrip())
            code = proc.wait()
        if check and code != 0:
            shown = "\n".join(tail)
            raise DeployError(
                f"`tflocal {' '.join(args)}` failed with exit code {code} (full output: {log_path}):\n{shown}"
            )
        return code

    def init(self, on_line: Callable[[str], None] | None = None) -> None:
        if find_provider_mirror() is None:
            logger.warning(
                "no Terraform provider mirror found (set %s to its root): init will use the registry",
                PROVIDER_MIRROR_ENV,
            )
        try:
            self.run("init", "-input=false", "-no-color", on_line=on_line)
        except DeployError as exc:
            raise DeployError(
                f"{exc}\n\nTerraform could not install the AWS provider. Offline, it needs a filesystem "
                f"mirror holding registry.terraform.io/hashicorp/aws/5.100.0: set {PROVIDER_MIRROR_ENV} "
                "to the mirror's root (the folder that holds registry.terraform.io/)."
            ) from None

    def apply(self, on_line: Callable[[str], None] | None = None) -> float:
        """Apply; returns the seconds it took."""
        started = time.monotonic()
        self.run("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20", on_line=on_line)
        return time.monotonic() - started

    def plan_has_changes(self) -> bool:
        """``plan -detailed-exitcode``: False when the stack matches the code, True when it differs."""
        code = self.run("plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false", check=False)
        if code == 1:
            raise DeployError(f"`tflocal plan` failed (see {self.work_dir / 'last-run.log'})")
        return code == 2

    def outputs(self) -> dict[str, Any]:
        proc = subprocess.run(
            ["terraform", "output", "-json"],
            cwd=self.work_dir,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            return {}
        return {name: value.get("value") for name, value in json.loads(proc.stdout or "{}").items()}
