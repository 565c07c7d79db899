"""Where the project's files are: the source tree and the run-time state directory."""

from __future__ import annotations

import os
from pathlib import Path

# healops is installed editable from the repository, so the tree is the package's parent.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = PROJECT_ROOT / "terraform"
BUILD_DIR = PROJECT_ROOT / "build"
FLEET_DEFINITION_FILE = PROJECT_ROOT / "healops" / "fleet" / "fleet.json"
REMEDIATION_POLICY_FILE = PROJECT_ROOT / "healops" / "remediation" / "default_policy.json"


def state_dir() -> Path:
    """Run-time state (pid files, logs, the Terraform working copy): ``$HEALOPS_STATE_DIR`` or ``.healops/``."""
    return Path(os.environ.get("HEALOPS_STATE_DIR") or PROJECT_ROOT / ".healops").resolve()
