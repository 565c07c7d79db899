"""Lambda aliases on a running embedded cloud, through boto3: invocations routed by an alias's version and
weights, the version that ran in ``ExecutedVersion``, and UpdateAlias guarded by the alias's revision id.
The handlers run in the embedded Lambda runtime, so each answer comes from the version's own worker."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from healops.local.awslambda import LambdaRuntime
from healops.local.context import EmbeddedContext
from healops.local.lambdaaliases import AliasRouting, choose_version
from healops.local.server import EmbeddedCloud
from tests.conftest import make_client
from tests.helpers import zipped

pytestmark = pytest.mark.timeout(180)

WHO_RAN = """
def handler(event, context):
    return {"version": context.function_version, "memory": context.memory_limit_in_mb}
"""


@pytest.fixture(scope="module")
def lam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ctx = EmbeddedContext(port=0, state_dir=tmp_path_factory.mktemp("lambda-aliases"))
    with EmbeddedCloud(ctx, extensions=[LambdaRuntime(), AliasRouting()]) as cloud:
        yield make_client(cloud.endpoint_url, "lambda")


@pytest.fixture
def function(lam: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A function with versions 1 (128 MB) and 2 (256 MB) and an alias ``live`` on version 1."""
    iam = make_client(lam.meta.endpoint_url, "iam")
    name = f"fn-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": WHO_RAN})},
        MemorySize=128,
    )
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, MemorySize=256)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


def _invoke(lam: Any, name: str, qualifier: str | None = None) -> tuple[str, dict[str, Any]]:
    extra = {"Qualifier": qualifier} if qualifier else {}
    response = lam.invoke(FunctionName=name, Payload=b"{}", **extra)
    return response["ExecutedVersion"], json.loads(response["Payload"].read())


def test_an_alias_runs_its_version_and_says_which(lam: Any, function: str) -> None:
    assert _invoke(lam, function, "live") == ("1", {"version": "1", "memory": "128"})
    lam.update_alias(FunctionName=function, Name="live", FunctionVersion="2")
    assert _invoke(lam, f"{function}:live") == ("2", {"version": "2", "memory": "256"})
    assert _invoke(lam, function, "1")[0] == "1"
    assert _invoke(lam, function)[0] == "$LATEST"


def test_weights_send_a_share_of_invocations_to_the_additional_version(lam: Any, function: str) -> None:
    lam.update_alias(
        FunctionName=function, Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}
    )
    ran = Counter(_invoke(lam, function, "live")[0] for _ in range(40))
    # 40 draws at 50 %: fewer than 8 of either happens with probability below 1e-5.
    assert set(ran) == {"1", "2"} and min(ran.values()) >= 8, ran
    lam.update_alias(FunctionName=function, Name="live", RoutingConfig={"AdditionalVersionWeights": {}})
    assert {_invoke(lam, function, "live")[0] for _ in range(5)} == {"1"}


def test_update_alias_changes_the_revision_and_refuses_a_stale_one(lam: Any, function: str) -> None:
    first = lam.get_alias(FunctionName=function, Name="live")["RevisionId"]
    moved = lam.update_alias(FunctionName=function, Name="live", FunctionVersion="2", RevisionId=first)
    assert moved["RevisionId"] != first and moved["FunctionVersion"] == "2"
    with pytest.raises(ClientError) as refused:
        lam.update_alias(FunctionName=function, Name="live", FunctionVersion="1", RevisionId=first)
    assert refused.value.response["Error"]["Code"] == "PreconditionFailedException"
    assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == "2"


def test_an_unknown_alias_is_moto_s_unknown_function(lam: Any, function: str) -> None:
    with pytest.raises(ClientError) as refused:
        _invoke(lam, function, "nope")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("draw", "expected"), [(0.0, "2"), (0.29, "2"), (0.3, "3"), (0.49, "3"), (0.5, "1"), (0.99, "1")]
)
def test_choose_version_splits_the_draw_by_weight(draw: float, expected: str) -> None:
    assert choose_version("1", {"3": 0.2, "2": 0.3}, draw) == expected
