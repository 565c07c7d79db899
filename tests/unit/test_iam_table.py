"""Least privilege, written down: every IAM statement in terraform/ matches docs/security.md's table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.unit.test_terraform import REPO_ROOT, TERRAFORM_DIR, load, locals_of

TABLE_DOC = REPO_ROOT / "docs" / "security.md"
MODULE_DIR = TERRAFORM_DIR / "modules" / "lambda_function"
# Policy documents that grant a role its rights, by (file, data source name) -> the table's role name.
ROLE_DOCUMENTS = {
    (MODULE_DIR / "main.tf", "logs"): "every function",
    (MODULE_DIR / "main.tf", "tracing"): "every function",
    (TERRAFORM_DIR / "iam.tf", "sfn"): "remediation-sfn",
}
# The module's "access" document renders iam.tf's catalogue (read from there); the rest grant no role
# anything: trust policies, and the key policy (tested below).
OTHER_DOCUMENTS = {
    (MODULE_DIR / "main.tf", "access"),
    (MODULE_DIR / "main.tf", "assume"),
    (TERRAFORM_DIR / "iam.tf", "sfn_assume"),
    (TERRAFORM_DIR / "keys.tf", "key"),
    (TERRAFORM_DIR / "demo_fleet.tf", "demo_lambda_assume"),
}

Statement = tuple[frozenset[str], tuple[str, ...]]


def expression(value: str) -> str:
    """A resource as the table writes it: a lone ``${...}`` interpolation loses its braces."""
    match = re.fullmatch(r"\$\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", value)
    return match.group(1) if match else value


def resources_of(statement: dict[str, Any]) -> tuple[str, ...]:
    raw = statement.get("resources", [])
    values = [raw] if isinstance(raw, str) else raw
    return tuple(expression(v) for v in values)


def documents() -> dict[tuple[Path, str], dict[str, Any]]:
    found = {}
    for path in sorted(p for p in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in p.parts):
        for entry in load(path).get("data", []):
            for name, body in entry.get("aws_iam_policy_document", {}).items():
                found[(path, name)] = body
    return found


def statements_in_terraform() -> dict[tuple[str, str], Statement]:
    found: dict[tuple[str, str], Statement] = {}
    for role, statements in locals_of("iam.tf")["function_policy_statements"].items():
        for statement in statements:
            found[(role, statement["sid"])] = (frozenset(statement["actions"]), resources_of(statement))
    for key, body in documents().items():
        if key in OTHER_DOCUMENTS:
            continue
        for statement in body.get("statement", []):
            found[(ROLE_DOCUMENTS[key], statement["sid"])] = (frozenset(statement["actions"]), resources_of(statement))
    return found


def table_rows() -> list[dict[str, str]]:
    text = TABLE_DOC.read_text()
    body = text.split("<!-- iam-table:start -->", 1)[1].split("<!-- iam-table:end -->", 1)[0]
    lines = [line for line in body.strip().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def statements_in_table() -> dict[tuple[str, str], Statement]:
    found = {}
    for row in table_rows():
        actions = frozenset(a.strip() for a in row["actions"].split(","))
        resources = tuple(r.strip().strip("`") for r in row["resources"].split(";"))
        found[(row["role"], row["statement"])] = (actions, resources)
    return found


def test_every_policy_document_is_a_role_grant_or_known_to_grant_none():
    assert set(documents()) == set(ROLE_DOCUMENTS) | OTHER_DOCUMENTS


def test_each_roles_actions_and_resources_are_the_ones_the_table_writes_down():
    in_terraform, in_table = statements_in_terraform(), statements_in_table()
    assert len(in_table) == len(table_rows()), "a (role, statement) row is in the table twice"
    assert sorted(set(in_terraform) - set(in_table)) == [], "statements in terraform/ missing from docs/security.md"
    assert sorted(set(in_table) - set(in_terraform)) == [], "rows in docs/security.md that terraform/ no longer has"
    differing = {key: (in_terraform[key], in_table[key]) for key in in_table if in_terraform[key] != in_table[key]}
    assert differing == {}


def test_every_wildcard_resource_says_why_nothing_narrower_serves():
    unexplained = [
        f"{row['role']}:{row['statement']}"
        for row in table_rows()
        if ("*" in row["resources"] or "index_arns" in row["resources"] or "log_group_arns" in row["resources"])
        and not row["why a wildcard"]
    ]
    assert unexplained == []


def test_kms_decrypt_is_granted_on_the_stacks_own_key_only():
    decrypting = {
        key: resources for key, (actions, resources) in statements_in_terraform().items() if "kms:Decrypt" in actions
    }
    assert decrypting, "no role decrypts: the SecureStrings could not be read"
    assert {resources for resources in decrypting.values()} == {("aws_kms_key.this.arn",)}


def test_the_injector_cannot_delete_services():
    injector = [s for s in locals_of("iam.tf")["function_policy_statements"]["injector"]]
    actions = {action for statement in injector for action in statement["actions"]}
    assert not {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & actions


def test_the_key_policy_lets_in_only_this_account_and_cloudwatch_alarms():
    [key_policy] = [body for (path, name), body in documents().items() if (path.name, name) == ("keys.tf", "key")]
    principals = {
        identifier
        for statement in key_policy["statement"]
        for principal in statement["principals"]
        for identifier in principal["identifiers"]
    }
    assert principals == {"arn:${local.partition}:iam::${local.account_id}:root", "cloudwatch.amazonaws.com"}
    assert not [a for s in key_policy["statement"] for a in s["actions"] if "*" in a]


WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def test_the_role_that_acts_never_reads_the_llm_settings_or_keys():
    remediator = locals_of("iam.tf")["function_policy_statements"]["remediator"]
    assert not [s["sid"] for s in remediator if "local.llm_parameter_arns" in str(s["resources"])]
    assert not [s["sid"] for s in remediator if {"kms:Decrypt", "ssm:GetParametersByPath"} & set(s["actions"])]
    assert not [s["sid"] for s in remediator if "llm_actions" in str(s["resources"])]


def test_the_planner_writes_only_its_audit_and_acts_on_nothing():
    planner = locals_of("iam.tf")["function_policy_statements"]["planner"]
    writes = [s for s in planner if WRITE_ACTIONS & set(s["actions"])]
    assert [resources_of(s) for s in writes] == [("local.table_arns.llm_actions", "local.table_arns.agent_decisions")]
    assert {a for s in writes for a in s["actions"]} == {"dynamodb:PutItem", "dynamodb:Query"}
    # Nothing that acts or tells: no Lambda invoke, no queue, no state machine, no SNS.
    assert not [a for s in planner for a in s["actions"] if a.split(":")[0] in ("lambda", "sqs", "states", "sns", "s3")]
    # The Plan state invokes the planner; the remediator runs the steps that act.
    orchestration = (TERRAFORM_DIR / "orchestration.tf").read_text()
    assert 'Resource       = name == "Plan" ? local.planner_arn : local.remediator_arn' in orchestration
