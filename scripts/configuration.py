"""Write docs/configuration.md from the sources: every Terraform variable, environment variable and policy field.

    python scripts/configuration.py           # rewrite docs/configuration.md
    python scripts/configuration.py --check   # exit 1 when the file differs from what the sources say

Terraform variables and the remediation policy's fields are read from ``terraform/*.tf`` (python-hcl2); the
functions' environment from ``terraform/functions.tf`` (the table variables expanded from ``tables.tf``); the
variables the code reads from a user's environment are found in ``healops/`` (every ``"HEALOPS_..."`` literal,
``healops.config.ENV_NAMES``, ``healops.llm.settings.ENV_NAMES``). Only the last need a line of prose here
(``USER_ENV``): a variable the code reads that has none, or prose for one the code no longer reads, is an error
naming it, so the page cannot drift (tests/unit/test_configuration_doc.py runs the check).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parents[1]
TERRAFORM_DIR = REPO_ROOT / "terraform"
PACKAGE_DIR = REPO_ROOT / "healops"
DOC_FILE = REPO_ROOT / "docs" / "configuration.md"
HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
POLICY_VARIABLE = "remediation_policy"
POLICY_DEFAULTS_VARIABLE = "remediation_policy_defaults_file"
ENV_NAME = re.compile(r"HEALOPS_[A-Z0-9_]+")
BENCH_DIR = "bench"
REQUIRED = object()  # a variable without a default
# Read by healops/aws.py for every client outside a function (not HEALOPS_ names, so listed here).
READ_BY_HEALOPS_AWS = frozenset({"AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "AWS_DEFAULT_REGION"})

# What a user may set in the environment of the CLI, `healops up`, the dashboard or the embedded cloud. The
# LLM settings of `healops up`'s environment reach the functions through Terraform (terraform/llm.tf: SSM).
USER_ENV = {
    "AWS_ENDPOINT_URL": "the endpoint `healops status` / `inject` (without --endpoint-url), the dashboard and "
    "boto3 talk to; unset: AWS",
    "LOCALSTACK_HOST": "LocalStack's `host[:port]` (port 4566 unless given), used when AWS_ENDPOINT_URL is unset",
    "AWS_DEFAULT_REGION": "region of the CLI's, the dashboard's and the benches' clients (default us-east-1)",
    "HEALOPS_STATE_DIR": "run-time state of `healops up` (pid files, logs, stack.json, the Terraform working copy); "
    "default `.healops/` in the checkout",
    "HEALOPS_TF_PLUGIN_MIRROR": "a folder holding `registry.terraform.io/` to install Terraform's AWS provider "
    "from (default: `/opt/*/registry.terraform.io/hashicorp/aws` when present, else the registry)",
    "HEALOPS_LOG_LEVEL": "log level of the embedded cloud (default INFO)",
    "HEALOPS_NAME_PREFIX": "the dashboard's stack: Terraform's `name_prefix` (default healops)",
    "HEALOPS_DASHBOARD_TOKEN": "the dashboard's write token (approve / deny), given directly",
    "HEALOPS_DASHBOARD_TOKEN_FILE": "a file holding the dashboard's write token (`healops up` writes "
    "`.healops/dashboard.token`, mode 0600)",
    "HEALOPS_TIME_SCALE": "the dashboard's time scale (charts take a point per tick; `healops up` sets it)",
    "HEALOPS_LLM_PROVIDER": "offline, gemini, nim or openai; unset: the first with a key (gemini, nim, openai), "
    "else offline",
    "HEALOPS_LLM_MODEL": "model name; unset: the provider's default (healops/llm/settings.py)",
    "GOOGLE_API_KEY": "Gemini API key (wins over GEMINI_API_KEY, as in Google's SDK)",
    "GEMINI_API_KEY": "Gemini API key",
    "GOOGLE_GEMINI_BASE_URL": "base URL of the Gemini API; unset: Google's",
    "OPENAI_API_KEY": "API key of an OpenAI-compatible server",
    "OPENAI_BASE_URL": "base URL of an OpenAI-compatible server (OpenAI, vLLM, Ollama)",
    "NVIDIA_API_KEY": "NVIDIA NIM API key",
    "HEALOPS_LLM_NIM_BASE_URL": "base URL of NIM; unset: NVIDIA's public endpoint",
    "HEALOPS_LLM_RESPONSE_FORMAT": "json_schema or json_object: how the model is asked for JSON",
    "HEALOPS_LLM_TIMEOUT_S": "seconds a model request may take (default 20)",
    "HEALOPS_LLM_MAX_RETRIES": "retries of a failed model request (default 2)",
    "HEALOPS_LLM_PLAN_DEADLINE_S": "a plan's whole wait for a model before the offline plan (default 40)",
    "HEALOPS_LLM_TOKEN_BUDGET": "prompt tokens per incident (default 12000)",
    "HEALOPS_LLM_MAX_OUTPUT_TOKENS": "tokens a model answer may take (default 1024)",
    "HEALOPS_LLM_PRICE_IN_PER_MTOK": "price per million prompt tokens, for the audit's cost estimate (default 0)",
    "HEALOPS_LLM_PRICE_OUT_PER_MTOK": "price per million answer tokens, for the audit's cost estimate (default 0)",
    # The notifier's sinks, from `healops up`'s environment to terraform/notify.tf (secrets as TF_VAR_ only).
    "HEALOPS_NOTIFY_SLACK_WEBHOOK_URL": "Slack incoming webhook URL (`notify_slack_webhook_url`; a secret)",
    "HEALOPS_NOTIFY_PAGERDUTY_ROUTING_KEY": "PagerDuty Events v2 routing key (`notify_pagerduty_routing_key`; "
    "a secret)",
    "HEALOPS_NOTIFY_PAGERDUTY_EVENTS_URL": "PagerDuty Events API endpoint (`notify_pagerduty_events_url`)",
    "HEALOPS_NOTIFY_WEBHOOK_URL": "signed webhook's URL (`notify_webhook_url`; a secret)",
    "HEALOPS_NOTIFY_WEBHOOK_SECRET": "signed webhook's HMAC key (`notify_webhook_secret`; a secret)",
    "HEALOPS_NOTIFY_EMAILS": "e-mail addresses, comma-separated, subscribed to the escalations topic (`notify_emails`)",
    "HEALOPS_NOTIFY_DASHBOARD_URL": "the dashboard URL messages link to (`notify_dashboard_url`)",
}


class ConfigurationDocError(RuntimeError):
    """The sources and the prose here disagree: a variable without a description, or prose for none."""


@dataclass(frozen=True)
class Variable:
    file: str
    name: str
    type: str
    default: Any
    description: str
    sensitive: bool = False


def _load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=HCL_OPTIONS)


def _expression(text: str) -> str:
    """A Terraform expression as written: ``${...}`` unwrapped."""
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def terraform_variables(terraform_dir: Path = TERRAFORM_DIR) -> list[Variable]:
    variables = []
    for path in sorted(terraform_dir.glob("*.tf")):
        for block in _load(path).get("variable", []):
            for name, spec in block.items():
                variables.append(
                    Variable(
                        file=path.name,
                        name=name,
                        type=_expression(str(spec.get("type", "any"))),
                        default=spec.get("default", REQUIRED),
                        description=spec.get("description", ""),
                        sensitive=bool(spec.get("sensitive", False)),
                    )
                )
    return variables


def split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets, braces, parentheses and strings."""
    parts, depth, current, quoted = [], 0, [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def policy_fields(variables: list[Variable], terraform_dir: Path = TERRAFORM_DIR) -> list[tuple[str, str, str]]:
    """(field, type, default) of the remediation policy: the fields of its variable's ``object({...})``, each
    default from the variable's ``optional(type, default)`` or else from the defaults file it names."""
    policy = next(v for v in variables if v.name == POLICY_VARIABLE)
    body = re.fullmatch(r"object\(\{(.*)\}\)", policy.type, re.S)
    if body is None:
        raise ConfigurationDocError(f"{POLICY_VARIABLE}'s type is not object({{...}}): {policy.type}")
    defaults_file = next((v for v in variables if v.name == POLICY_DEFAULTS_VARIABLE), None)
    defaults: dict[str, Any] = {}
    if defaults_file is not None and isinstance(defaults_file.default, str):
        defaults = json.loads((terraform_dir / defaults_file.default).read_text())
    fields = []
    for entry in split_top_level(body.group(1)):
        name, _, value = entry.partition("=")
        name = name.strip()
        optional = re.fullmatch(r"optional\((.*)\)", value.strip(), re.S)
        if optional is None:
            fields.append((name, value.strip(), "required"))
            continue
        type_and_default = split_top_level(optional.group(1))
        if len(type_and_default) > 1:
            default = type_and_default[1]
        elif name in defaults:
            default = json.dumps(defaults[name])
        else:
            raise ConfigurationDocError(f"{POLICY_VARIABLE}.{name} has no default in the variable or the defaults file")
        fields.append((name, type_and_default[0], default))
    return fields


def function_environment(terraform_dir: Path = TERRAFORM_DIR) -> dict[str, str]:
    """Each variable Terraform sets on every function, with the expression it takes its value from."""
    tables = [key for block in _load(terraform_dir / "tables.tf")["locals"] for key in block.get("tables", {})]
    locals_block = next(b for b in _load(terraform_dir / "functions.tf")["locals"] if "function_environment" in b)
    merged = _expression(locals_block["function_environment"])
    environment = {f"HEALOPS_{key.upper()}_TABLE": f'aws_dynamodb_table.this["{key}"].name' for key in tables}
    for name, expression in re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=\s*([^,\n}]+)", merged):
        environment[name] = expression.strip()
    environment["POWERTOOLS_SERVICE_NAME"] = "each.key"  # the module's merge adds the function's key
    return environment


def env_names_in_code(package_dir: Path = PACKAGE_DIR) -> set[str]:
    """Every ``HEALOPS_...`` name spelled out in the package, and the names of its settings tables."""
    names: set[str] = set()
    for path in package_dir.rglob("*.py"):
        if BENCH_DIR in path.relative_to(package_dir).parts[:1]:
            continue  # the benches only set variables on the functions they run (a marker forcing a restart)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.fullmatch(node.value):
                names.add(node.value)
    from healops import config
    from healops.llm import settings

    names.update(config.ENV_NAMES.values())
    names.update(name for env_names in settings.ENV_NAMES.values() for name in env_names)
    return names


def user_environment(function_env: dict[str, str], in_code: set[str]) -> dict[str, str]:
    """The variables a user sets, with their prose; an error names any read without prose, or prose for none."""
    expected = (in_code - set(function_env)) | READ_BY_HEALOPS_AWS
    undescribed = sorted(expected - set(USER_ENV))
    if undescribed:
        raise ConfigurationDocError(
            f"read by the code but not described: {', '.join(undescribed)} (add them to USER_ENV in "
            "scripts/configuration.py, or have Terraform set them in terraform/functions.tf)"
        )
    stale = sorted(set(USER_ENV) - expected)
    if stale:
        raise ConfigurationDocError(f"described in USER_ENV but no longer read by the code: {', '.join(stale)}")
    return {name: USER_ENV[name] for name in sorted(expected)}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(variable: Variable) -> str:
    if variable.sensitive:
        return "(sensitive)" if variable.default in (None, "") else "(sensitive, set)"
    if variable.default is REQUIRED:
        return "required"
    value = json.dumps(variable.default) if not isinstance(variable.default, str) else f'"{variable.default}"'
    return f"`{_cell(value)}`"


def _type(variable: Variable) -> str:
    return "object (fields below)" if variable.name == POLICY_VARIABLE else f"`{_cell(variable.type)}`"


def render(terraform_dir: Path = TERRAFORM_DIR, package_dir: Path = PACKAGE_DIR) -> str:
    variables = terraform_variables(terraform_dir)
    function_env = function_environment(terraform_dir)
    user_env = user_environment(function_env, env_names_in_code(package_dir))
    out = [
        "# Configuration",
        "",
        "Generated by `python scripts/configuration.py` from `terraform/*.tf` and `healops/`; do not edit by hand",
        "(`tests/unit/test_configuration_doc.py` fails when this page and the sources disagree).",
        "",
        "## Terraform variables",
        "",
        "Set with `-var name=value` or a `.tfvars` file; `healops up` writes `healops.auto.tfvars.json` in its",
        "working copy (`.healops/terraform/`) from its options and environment.",
        "",
        "| variable | file | type | default | description |",
        "|---|---|---|---|---|",
    ]
    for v in variables:
        out.append(f"| `{v.name}` | {v.file} | {_type(v)} | {_default(v)} | {_cell(v.description)} |")
    out += [
        "",
        "## Remediation policy fields",
        "",
        f"The `{POLICY_VARIABLE}` variable, written as one JSON document to the SSM parameter",
        "`/<name_prefix>/remediation/policy` and read by the remediator at every guard step (a change applies to the",
        "next candidate; [operations](operations.md) says what each limit does). Fields left out take their default",
        "(from `remediation_policy_defaults_file`, `healops/remediation/default_policy.json`, unless the variable",
        "gives one).",
        "",
        "| field | type | default |",
        "|---|---|---|",
    ]
    for name, type_, default in policy_fields(variables, terraform_dir):
        out.append(f"| `{name}` | `{_cell(type_)}` | `{_cell(default)}` |")
    out += [
        "",
        "## Environment variables",
        "",
        "### Read from your environment",
        "",
        "By the CLI (`healops`), `healops up` (the LLM settings go on to the functions through Terraform's",
        "`llm_*` variables and SSM), the dashboard and the embedded cloud.",
        "",
        "| variable | meaning |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {_cell(meaning)} |" for name, meaning in user_env.items()]
    out += [
        "",
        "### Set by Terraform on every function",
        "",
        "From `local.function_environment` in `terraform/functions.tf` (`healops/config.py` reads them); change the",
        "Terraform variable, not these.",
        "",
        "| variable | value |",
        "|---|---|",
    ]
    out += [f"| `{name}` | `{_cell(value)}` |" for name, value in sorted(function_env.items())]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/configuration.md from the sources.")
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/configuration.md is out of date")
    args = parser.parse_args(argv)
    try:
        text = render()
    except ConfigurationDocError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if not DOC_FILE.exists() or DOC_FILE.read_text() != text:
            print(f"{DOC_FILE} is out of date: run `python scripts/configuration.py`", file=sys.stderr)
            return 1
        return 0
    DOC_FILE.write_text(text)
    print(f"wrote {DOC_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
