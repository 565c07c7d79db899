"""terraform/ with targets and without the demo fleet, planned against a running embedded cloud: what an existing
account's operator would apply (docs/operations.md, "Real workloads")."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healops import paths
from healops.deploy.errors import DeployError
from healops.deploy.terraform import TerraformRunner
from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud
from tests.unit.test_terraform import FUNCTIONS, TERRAFORM_DIR, needs_terraform

TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders/0123456789abcdef"
TARGETS = {
    "ecs_services": [
        {
            "name": "orders",
            "cluster": "prod",
            "service": "orders-api",
            "target_group_arn": TARGET_GROUP_ARN,
            "depends_on": ["billing"],
        }
    ],
    "lambda_functions": [{"name": "billing", "function_name": "billing-worker", "alias": "live", "depends_on": []}],
}


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TerraformRunner]:
    root = tmp_path_factory.mktemp("targets-plan")
    build_dir = root / "build"
    build_dir.mkdir()
    for function in (*FUNCTIONS, "demo_workload"):
        (build_dir / f"{function}.zip").write_bytes(b"")  # hashed by the plan, never read
    ctx = EmbeddedContext(port=0, state_dir=root / "cloud", time_scale=1.0)
    with EmbeddedCloud(ctx) as cloud:
        tf = TerraformRunner(
            source_dir=TERRAFORM_DIR,
            work_dir=root / "terraform",
            endpoint_url=cloud.endpoint_url,
            tflocal=Path(sys.executable).parent / "tflocal",
            variables={
                "build_dir": str(build_dir),
                "fleet_definition_file": str(paths.FLEET_DEFINITION_FILE),
                "remediation_policy_defaults_file": str(paths.REMEDIATION_POLICY_FILE),
                "demo_fleet": False,
                "targets": TARGETS,
            },
        )
        tf.prepare(fresh_state=True)
        tf.init()
        yield tf


def _plan(runner: TerraformRunner, *extra: str) -> dict[str, Any]:
    runner.run("plan", "-input=false", "-no-color", "-lock=false", "-out=targets.tfplan", *extra)
    shown = subprocess.run(
        ["terraform", "show", "-json", "targets.tfplan"],
        cwd=runner.work_dir,
        env=runner.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(shown.stdout)


@needs_terraform
def test_one_target_of_each_kind_without_the_demo_fleet_plans_cleanly(runner: TerraformRunner) -> None:
    plan = _plan(runner)
    changes = {change["address"]: change["change"] for change in plan["resource_changes"]}
    demo = [address for address in changes if ".demo" in address]
    assert demo == [], f"demo_fleet = false still plans {demo}"
    targets_parameter = changes["aws_ssm_parameter.targets"]
    assert targets_parameter["actions"] == ["create"]
    written = json.loads(targets_parameter["after"]["value"])
    assert written["ecs_services"] == TARGETS["ecs_services"]
    assert written["lambda_functions"] == TARGETS["lambda_functions"]
    assert plan["planned_values"]["outputs"]["demo_fleet_targets"]["value"] == {
        "ecs_services": [],
        "lambda_functions": [],
    }


def _targets_var(**replace: Any) -> str:
    targets = json.loads(json.dumps(TARGETS))
    for kind, fields in replace.items():
        targets[kind][0].update(fields)
    return f"targets={json.dumps(targets)}"


@needs_terraform
@pytest.mark.parametrize(
    ("replace", "complaint"),
    [
        ({"ecs_services": {"depends_on": ["nowhere"]}}, "unknown: orders -> nowhere"),
        ({"lambda_functions": {"alias": "$LATEST"}}, "not $LATEST"),
        ({"ecs_services": {"target_group_arn": "orders-tg"}}, "target_group_arn must be an ALB target group's ARN"),
        ({"lambda_functions": {"name": "orders"}}, "Target names must be unique"),
    ],
)
def test_a_wrong_target_fails_the_plan_naming_what_is_wrong(
    runner: TerraformRunner, replace: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(DeployError):
        _plan(runner, "-var", _targets_var(**replace))
    assert complaint in " ".join((runner.work_dir / "last-run.log").read_text().split())
