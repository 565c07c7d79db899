"""The Lambda alias extension: Invoke's Qualifier, weighted alias routing, and alias revision ids."""

from __future__ import annotations

import json
import random
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from collections.abc import Callable

    from healops.local.context import EmbeddedContext

# The context the patches serve; None when no embedded cloud with this extension runs, and then
# every patched function behaves exactly as moto's.
_active: EmbeddedContext | None = None
_installed = False
_originals: dict[str, Callable[..., Any]] = {}
# Seeded by tests that need a reproducible split; the module's own otherwise.
_random = random.Random()


def split_qualified_name(backend: Any, function_name: str, qualifier: str | None) -> tuple[str, str | None]:
    """(function name, qualifier) from a name, ``name:qualifier``, or an ARN with or without one."""
    if function_name.startswith("arn:"):
        _, name, in_name = backend._lambdas.split_function_arn(function_name)
    else:
        name, _, in_name = function_name.partition(":")
    return name, (in_name or None) or qualifier


def choose_version(primary: str, weights: dict[str, float], draw: float) -> str:
    """The version an invocation of an alias runs: each additional version takes its weight of ``draw``'s [0, 1)."""
    threshold = 0.0
    for version, weight in sorted(weights.items()):
        threshold += float(weight)
        if draw < threshold:
            return version
    return primary


def _routed_function(backend: Any, function_name: str, qualifier: str | None) -> Any:
    name, alias_name = split_qualified_name(backend, function_name, qualifier)
    if alias_name is None or alias_name.upper() == "$LATEST" or alias_name.isdigit():
        return backend.get_function(function_name, qualifier)
    from moto.awslambda.exceptions import UnknownAliasException

    try:
        alias = backend.get_alias(alias_name, name)
    except UnknownAliasException:
        return backend.get_function(function_name, qualifier)  # moto's own error for an unknown qualifier
    weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
    version = choose_version(str(alias.function_version), weights, _random.random()) if weights else None
    if version is None or version == str(alias.function_version):
        return backend.get_function(function_name, qualifier)
    return backend.get_function(name, version)


def _invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: dict[str, str]
) -> Any:
    original = _originals["LambdaBackend.invoke"]
    if _active is None:
        return original(self, function_name, qualifier, body, headers, response_headers)
    fn = _routed_function(self, function_name, qualifier)
    # The Lambda runtime answers X-Amz-Executed-Version from the function object it is handed: this version.
    payload = fn.invoke(body, headers, response_headers)
    response_headers["Content-Length"] = str(len(payload))
    return payload


def _invoke_response(self: Any) -> Any:
    # moto reads the qualifier as ``qualifier``; boto3 and the CLI send ``?Qualifier=``, which moto then ignores
    # and runs $LATEST.
    if _active is not None and "qualifier" not in self.querystring and "Qualifier" in self.querystring:
        self.querystring["qualifier"] = self.querystring["Qualifier"]
    return _originals["LambdaResponse.invoke"](self)


def _alias_update(self: Any, description: Any, function_version: Any, routing_config: Any) -> None:
    _originals["LambdaAlias.update"](self, description, function_version, routing_config)
    if _active is not None:
        # Every change of an alias gets a new revision id, which a later RevisionId precondition compares with.
        self.revision_id = str(uuid.uuid4())


def _update_alias_response(self: Any) -> Any:
    if _active is not None:
        from moto.awslambda.exceptions import PreconditionFailedException

        expected = (json.loads(self.body or "{}") or {}).get("RevisionId")
        if expected:
            function_name = unquote(self.path.rsplit("/")[-3])
            alias_name = unquote(self.path.rsplit("/", 2)[-1])
            current = self.backend.get_alias(name=alias_name, function_name=function_name).revision_id
            if expected != current:
                raise PreconditionFailedException(
                    "The Revision Id provided does not match the latest Revision Id. "
                    "Call the GetAlias API to retrieve the latest Revision Id"
                )
    return _originals["LambdaResponse.update_alias"](self)


def _install_patches() -> None:
    from moto.awslambda.models import LambdaAlias, LambdaBackend
    from moto.awslambda.responses import LambdaResponse

    _originals["LambdaBackend.invoke"] = LambdaBackend.invoke
    _originals["LambdaAlias.update"] = LambdaAlias.update
    _originals["LambdaResponse.update_alias"] = LambdaResponse.update_alias
    _originals["LambdaResponse.invoke"] = LambdaResponse.invoke
    LambdaBackend.invoke = _invoke  # type: ignore[method-assign]
    LambdaAlias.update = _alias_update  # type: ignore[method-assign]
    LambdaResponse.update_alias = _update_alias_response  # type: ignore[method-assign]
    LambdaResponse.invoke = _invoke_response  # type: ignore[method-assign]


class AliasRouting:
    """Lambda aliases as AWS routes them (see :mod:`healops.local.lambdaaliases`)."""

    name = "lambda-aliases"

    def install(self, ctx: EmbeddedContext) -> None:
        global _active, _installed
        _active = ctx
        if not _installed:
            _install_patches()
            _installed = True

    def start(self, ctx: EmbeddedContext) -> None:
        return None

    def stop(self) -> None:
        global _active
        _active = None
