"""Which stack ``healops status`` and ``healops inject`` talk to, and the names they need from it.

In order: ``--endpoint-url``; the stack ``healops up`` started from this directory (its ``stack.json`` in the
state directory); ``AWS_ENDPOINT_URL``. A stack reached by endpoint is described by its discovery document (the
SSM parameter ``/<name_prefix>/stack`` Terraform writes), so the CLI works outside a checkout, against any
endpoint where the stack is deployed (the embedded cloud, LocalStack).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healops import aws, paths
from healops.deploy.errors import DeployError

DEFAULT_NAME_PREFIX = "healops"
ENDPOINT_HINT = "--endpoint-url URL or AWS_ENDPOINT_URL"


@dataclass(frozen=True)
class Target:
    endpoint_url: str
    # Where the endpoint came from: "--endpoint-url", "healops up" or "AWS_ENDPOINT_URL".
    source: str
    function_names: dict[str, str] = field(default_factory=dict)
    # The stack.json `healops up` wrote (pid, time scale, outputs); None for a stack reached by endpoint.
    local_stack: dict[str, Any] | None = None


def add_target_arguments(parser: Any) -> None:
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="the endpoint where the stack is deployed (default: the one healops up started here, "
        "else $AWS_ENDPOINT_URL)",
    )
    parser.add_argument(
        "--name-prefix",
        default=DEFAULT_NAME_PREFIX,
        help="the stack's Terraform name_prefix, for its discovery document (default healops)",
    )


def discovery_document(endpoint_url: str, name_prefix: str = DEFAULT_NAME_PREFIX) -> dict[str, Any]:
    """The deployed stack's discovery document; a DeployError naming the endpoint when there is none."""
    ssm = aws.client("ssm", endpoint_url=endpoint_url, max_attempts=1, connect_timeout=3, read_timeout=10)
    name = f"/{name_prefix}/stack"
    try:
        return json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        raise DeployError(
            f"no Heal-Ops stack at {endpoint_url}: SSM parameter {name} not found (deploy it with `healops up` or "
            "terraform apply, or pass the right --endpoint-url / --name-prefix)"
        ) from None
    except Exception as exc:  # connection refused, timeouts: botocore raises several unrelated types
        raise DeployError(f"the endpoint {endpoint_url} does not answer: {exc}") from exc


def local_stack(state_dir: Path) -> dict[str, Any] | None:
    """The stack.json of the stack `healops up` runs from ``state_dir`` (what a dead run left cleared first); None
    without one, or in an installation without the embedded cloud (the local extra), which cannot have run one."""
    try:
        from healops.deploy.stack import clear_stale, read_stack
    except ModuleNotFoundError:
        return None
    clear_stale(state_dir)
    return read_stack(state_dir)


def resolve_target(endpoint_url: str | None = None, name_prefix: str = DEFAULT_NAME_PREFIX) -> Target:
    if endpoint_url is None:
        state_dir = paths.state_dir()
        stack = local_stack(state_dir)
        if stack is not None:
            names = stack["outputs"].get("lambda_function_names") or {}
            return Target(stack["endpoint_url"], "healops up", dict(names), local_stack=stack)
        endpoint_url = os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint_url:
            raise DeployError(
                f"no Heal-Ops stack is running (state directory {state_dir}): start it with `healops up`, "
                f"or give the endpoint of one ({ENDPOINT_HINT})"
            )
        source = "AWS_ENDPOINT_URL"
    else:
        source = "--endpoint-url"
    document = discovery_document(endpoint_url, name_prefix)
    return Target(endpoint_url, source, dict(document.get("functions") or {}))
