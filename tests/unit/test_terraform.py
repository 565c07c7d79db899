"""terraform/: formatted, valid, and keeping its conventions (fast: no apply, no endpoint)."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from healops import config
from healops.detection.schedule import DEFAULT_READ_EVERY_TICKS, MAX_READ_EVERY_TICKS

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
TF_FILES = sorted(p for p in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in p.parts)
FUNCTIONS = {"detector", "remediator", "planner", "injector", "metrics_generator", "notifier"}
# Actions with no resource-level permissions: the only ones allowed on Resource "*".
WILDCARD_RESOURCE_ACTIONS = {
    "cloudwatch:GetMetricData",
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    # Target actions (healops/targets): reads, and a new task definition revision whose request must carry the tag.
    "ecs:DescribeTaskDefinition",
    "ecs:ListTaskDefinitions",
    "ecs:RegisterTaskDefinition",
    "application-autoscaling:DescribeScalableTargets",
}
# A key policy's Resource "*" means the key it is attached to (tests/unit/test_iam_table.py checks its principals).
KEY_POLICY_DOCUMENTS = {("keys.tf", "key")}

HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
terraform_bin = shutil.which("terraform")


def needs_terraform(test: Callable[..., Any]) -> Callable[..., Any]:
    """Runs the terraform binary: skipped without one, and outside the fast subset (make test-fast)."""
    return pytest.mark.slow(pytest.mark.skipif(terraform_bin is None, reason="terraform is not installed")(test))


def load(path: Path) -> dict[str, Any]:
    with path.open() as fp:
        return hcl2.load(fp, serialization_options=HCL_OPTIONS)


def blocks(kind: str) -> list[tuple[Path, str, dict[str, Any]]]:
    """(file, name, body) of every top-level ``kind`` block (variable, output, ...)."""
    found = []
    for path in TF_FILES:
        for entry in load(path).get(kind, []):
            found.extend((path, name, body) for name, body in entry.items())
    return found


def locals_of(filename: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for entry in load(TERRAFORM_DIR / filename).get("locals", []):
        merged.update(entry)
    return merged


@needs_terraform
def test_terraform_is_formatted():
    result = subprocess.run(
        [terraform_bin, "fmt", "-check", "-recursive", "-diff"], cwd=TERRAFORM_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform/`:\n{result.stdout}{result.stderr}"


def _mirror_root() -> str | None:
    found = sorted(glob.glob("/opt/*/registry.terraform.io"))
    return str(Path(found[0]).parent) if found else None


@needs_terraform
@pytest.mark.skipif(_mirror_root() is None, reason="no provider mirror under /opt (offline init impossible)")
def test_terraform_validates(tmp_path):
    workdir = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.lock.hcl"))
    cli_config = tmp_path / "terraformrc"
    mirror = f'filesystem_mirror {{\n    path = "{_mirror_root()}"\n  }}'
    cli_config.write_text(f"provider_installation {{\n  {mirror}\n}}\n")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1"}
    for command in (["init", "-backend=false", "-input=false", "-no-color"], ["validate", "-no-color"]):
        result = subprocess.run([terraform_bin, *command], cwd=workdir, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"terraform {command[0]} failed:\n{result.stdout}{result.stderr}"


def test_every_variable_has_a_description_and_a_type():
    variables = blocks("variable")
    assert len(variables) > 20
    missing = [f"{p.name}:{name}" for p, name, body in variables if not body.get("description") or "type" not in body]
    assert missing == []


def test_every_root_variable_has_a_default():
    root = [(name, body) for p, name, body in blocks("variable") if p.parent == TERRAFORM_DIR]
    assert [name for name, body in root if "default" not in body] == []


def test_every_output_is_described():
    outputs = blocks("output")
    assert [f"{p.name}:{name}" for p, name, body in outputs if not body.get("description")] == []


def _statements() -> list[tuple[str, dict[str, Any]]]:
    catalogue = locals_of("iam.tf")["function_policy_statements"]
    found = [(function, statement) for function, statements in catalogue.items() for statement in statements]
    for path in TF_FILES:
        for entry in load(path).get("data", []):
            for name, body in entry.get("aws_iam_policy_document", {}).items():
                if (path.name, name) in KEY_POLICY_DOCUMENTS:
                    continue
                found.extend((f"{path.name}:{name}", statement) for statement in body.get("statement", []))
    return found


def test_iam_catalogue_covers_exactly_the_functions():
    assert set(locals_of("iam.tf")["function_policy_statements"]) == FUNCTIONS
    assert set(locals_of("functions.tf")["functions"]) == FUNCTIONS


def test_wildcard_resources_only_for_actions_without_resource_level_permissions():
    offenders = [
        f"{owner}:{statement.get('sid')}"
        for owner, statement in _statements()
        if "*" in statement.get("resources", []) and not set(statement["actions"]) <= WILDCARD_RESOURCE_ACTIONS
    ]
    assert offenders == []


def test_no_wildcard_actions():
    actions = [action for _, statement in _statements() for action in statement["actions"]]
    assert actions and not [a for a in actions if "*" in a]


def test_put_metric_data_is_limited_to_the_metrics_namespace():
    [statement] = [s for _, s in _statements() if "cloudwatch:PutMetricData" in s["actions"]]
    [condition] = statement["conditions"]
    assert condition["variable"] == "cloudwatch:namespace"
    assert condition["values"] == ["${var.metrics_namespace}"]


def test_function_environment_names_are_the_ones_healops_config_reads():
    tables = locals_of("tables.tf")["tables"]
    table_names = {f"HEALOPS_{key.upper()}_TABLE" for key in tables}
    literal_names = set(re.findall(r"\b(HEALOPS_[A-Z_]+)\s*=", (TERRAFORM_DIR / "functions.tf").read_text()))
    assert table_names | literal_names == set(config.ENV_NAMES.values())


def test_queue_visibility_defaults_to_six_remediator_timeouts():
    body = (TERRAFORM_DIR / "messaging.tf").read_text()
    expected = "coalesce(var.incidents_visibility_timeout_s, 6 * local.lambda_timeouts.remediator)"
    assert f"visibility_timeout_seconds = {expected}" in body
    declared = {name: body for _, name, body in blocks("variable")}
    assert declared["incidents_visibility_timeout_s"]["default"] is None


def test_the_detectors_read_period_defaults_to_the_one_the_code_and_the_benches_run():
    declared = {name: body for _, name, body in blocks("variable")}
    read_every = declared["detector_read_every_ticks"]
    assert read_every["default"] == DEFAULT_READ_EVERY_TICKS == int(config.Settings().detector_read_every_ticks)
    assert f"<= {MAX_READ_EVERY_TICKS}" in str(read_every["validation"])
