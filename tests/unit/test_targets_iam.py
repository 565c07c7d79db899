"""The remediator's rights on real ECS services and Lambda functions (terraform/iam.tf) are exactly the calls
healops/targets makes, and every write among them reaches only a resource tagged healops:managed = true."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import botocore.session

from tests.unit.test_terraform import REPO_ROOT, locals_of

TARGETS_DIR = REPO_ROOT / "healops" / "targets"
# The client attribute each module acts through -> the botocore service (and IAM prefix) behind it.
CLIENTS = {
    "ecs.py": {"ecs": "ecs", "autoscaling": "application-autoscaling"},
    "lambda_function.py": {"client": "lambda"},
    # The engine's adapter over the targets reads through the same clients.
    "fleet.py": {"ecs": "ecs", "autoscaling": "application-autoscaling", "lambda_client": "lambda"},
}
IAM_PREFIXES = {"ecs", "application-autoscaling", "lambda"}
# Rights a call needs beyond its own name (AWS's Service Authorization Reference, "Dependent actions").
DEPENDENT = {
    "lambda:GetFunction": {"lambda:ListTags"},  # on a tagged function
    "ecs:RegisterTaskDefinition": {"ecs:TagResource"},  # tags given on creation
}
MANAGED = "healops:managed"
READ_VERBS = ("Describe", "List", "Get")


def _client(service: str) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="unused", aws_secret_access_key="unused"
    )


def _operation(service: str, method: str) -> str:
    return _client(service).meta.method_to_api_mapping[method]


def _waiter_operation(service: str, waiter: str) -> str:
    return _client(service).get_waiter(waiter).config.operation


def calls_in_code() -> set[str]:
    """IAM actions of every client call in healops/targets: direct calls, paginators and waiters."""
    found: set[str] = set()
    for filename, clients in CLIENTS.items():
        for node in ast.walk(ast.parse((TARGETS_DIR / filename).read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if not (isinstance(owner, ast.Attribute) and owner.attr in clients):
                continue
            service, method = clients[owner.attr], node.func.attr
            if method in ("get_paginator", "get_waiter"):
                (argument,) = node.args
                assert isinstance(argument, ast.Constant), ast.dump(node)
                name = argument.value
                operation = _operation(service, name) if method == "get_paginator" else _waiter_operation(service, name)
            else:
                operation = _operation(service, method)
            found.add(f"{service}:{operation}")
    return found


def target_statements() -> dict[str, list[dict[str, Any]]]:
    """Every role's statements that grant an ECS, Application Auto Scaling or Lambda action."""
    return {
        role: [s for s in statements if {a.split(":")[0] for a in s["actions"]} & IAM_PREFIXES]
        for role, statements in locals_of("iam.tf")["function_policy_statements"].items()
    }


def _is_write(action: str) -> bool:
    return not action.split(":")[1].startswith(READ_VERBS)


def _remediator_target_statements() -> list[dict[str, Any]]:
    # lambda:InvokeFunction of the notifier is the stack's own function, not a target.
    return [s for s in target_statements()["remediator"] if s["actions"] != ["lambda:InvokeFunction"]]


def test_the_remediator_may_make_exactly_the_calls_the_target_actions_make() -> None:
    called = calls_in_code()
    assert {"ecs:UpdateService", "lambda:UpdateAlias", "application-autoscaling:RegisterScalableTarget"} <= called
    needed = called | {dependent for call in called for dependent in DEPENDENT.get(call, set())}
    granted = {action for s in _remediator_target_statements() for action in s["actions"]}
    assert sorted(granted - needed) == [], "granted, never called"
    assert sorted(needed - granted) == [], "called, never granted"


def test_every_write_on_a_target_requires_the_managed_tag() -> None:
    for statement in _remediator_target_statements():
        writes = [a for a in statement["actions"] if _is_write(a)]
        if not writes:
            continue
        tag_conditions = [
            c
            for c in statement.get("conditions", [])
            if c["variable"] in (f"aws:ResourceTag/{MANAGED}", f"aws:RequestTag/{MANAGED}")
        ]
        assert [(c["test"], c["values"]) for c in tag_conditions] == [("StringEquals", ["true"])], (
            f"{statement['sid']} grants {writes} without requiring {MANAGED} = true"
        )
        if statement.get("resources") == ["*"]:
            # Only a creation, whose resource does not exist yet: its request must carry the tag.
            assert tag_conditions[0]["variable"] == f"aws:RequestTag/{MANAGED}", statement["sid"]


def test_no_other_role_may_write_to_a_target() -> None:
    for role, statements in target_statements().items():
        if role == "remediator":
            continue
        writes = [a for s in statements for a in s["actions"] if _is_write(a) and a != "lambda:InvokeFunction"]
        assert writes == [], f"{role} may {writes}"
    assert target_statements()["planner"] == []


def test_the_tag_check_catches_a_dropped_condition(monkeypatch: Any) -> None:
    """The test above is not vacuous: the same check fails on the policy with a condition taken out."""
    statements = locals_of("iam.tf")["function_policy_statements"]
    act = next(s for s in statements["remediator"] if s["sid"] == "EcsTargetsAct")
    act.pop("conditions")
    monkeypatch.setattr(
        f"{__name__}.locals_of", lambda filename: {"function_policy_statements": statements}, raising=True
    )
    try:
        test_every_write_on_a_target_requires_the_managed_tag()
    except AssertionError as exc:
        assert "EcsTargetsAct" in str(exc)
    else:
        raise AssertionError("a write without the tag condition passed the check")


def test_docs_name_the_tag() -> None:
    assert MANAGED in (REPO_ROOT / "docs" / "security.md").read_text()
    assert Path(REPO_ROOT / "terraform" / "demo_fleet.tf").read_text().count(f'"{MANAGED}" = "true"') == 1
