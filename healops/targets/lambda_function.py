"""Actions on a Lambda function through its own APIs: roll the alias back, throttle, raise memory."""

from __future__ import annotations

import math
from typing import Any

from healops.targets.model import (
    ActionRecord,
    LambdaFunctionState,
    LambdaFunctionTarget,
    TargetActionError,
    Verdict,
    VerdictStatus,
)

# Lambda's bounds on MemorySize, in MB.
MAX_MEMORY_MB = 10_240


def previous_version(versions: list[str], current: str) -> str:
    """The highest published version below ``current``: the one the alias served before it."""
    if not current.isdigit():
        raise TargetActionError(f"the alias serves {current!r}, not a published version: there is no version before it")
    earlier = sorted(int(v) for v in versions if v.isdigit() and int(v) < int(current))
    if not earlier:
        raise TargetActionError(f"no published version before {current}: nothing to roll back to")
    return str(earlier[-1])


class LambdaFunctionActions:
    """The catalog's actions on one Lambda function and its serving alias; each returns its record.

    ``client`` is a boto3 ``lambda`` client, injected. Alias moves carry the alias's RevisionId, so a
    concurrent move of the same alias makes this one fail instead of silently undoing the other.
    """

    def __init__(self, target: LambdaFunctionTarget, client: Any) -> None:
        self.target = target
        self.client = client

    # ------------------------------------------------------------ reading
    def _alias(self) -> dict[str, Any]:
        return dict(self.client.get_alias(FunctionName=self.target.function_name, Name=self.target.alias))

    def state(self) -> LambdaFunctionState:
        alias = self._alias()
        served = self.client.get_function_configuration(
            FunctionName=self.target.function_name, Qualifier=alias["FunctionVersion"]
        )
        concurrency = self.client.get_function_concurrency(FunctionName=self.target.function_name)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return LambdaFunctionState(
            alias_version=alias["FunctionVersion"],
            alias_weights={str(k): float(v) for k, v in weights.items()},
            memory_size_mb=int(served["MemorySize"]),
            reserved_concurrency=concurrency.get("ReservedConcurrentExecutions"),
        )

    def _published_versions(self) -> list[str]:
        versions: list[str] = []
        paginator = self.client.get_paginator("list_versions_by_function")
        for page in paginator.paginate(FunctionName=self.target.function_name):
            versions.extend(v["Version"] for v in page["Versions"])
        return versions

    # ------------------------------------------------------------ acting
    def _move_alias(self, version: str, revision_id: str) -> None:
        # Clearing the weights too: a rollback or a new version serves all traffic, not a share of it.
        self.client.update_alias(
            FunctionName=self.target.function_name,
            Name=self.target.alias,
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": {}},
            RevisionId=revision_id,
        )

    def rollback(self) -> ActionRecord:
        """Point the alias at the published version before the one it serves."""
        before = self.state()
        alias = self._alias()
        version = previous_version(self._published_versions(), alias["FunctionVersion"])
        self._move_alias(version, alias["RevisionId"])
        return ActionRecord("rollback", self.target, before, self.state(), {"alias_version": version})

    def throttle(self, reserved_concurrency: int) -> ActionRecord:
        """Cap the function's concurrency (``PutFunctionConcurrency``); 0 stops every invocation."""
        if reserved_concurrency < 0:
            raise TargetActionError(f"reserved concurrency is 0 or more, got {reserved_concurrency}")
        before = self.state()
        self.client.put_function_concurrency(
            FunctionName=self.target.function_name, ReservedConcurrentExecutions=reserved_concurrency
        )
        return ActionRecord(
            "throttle", self.target, before, self.state(), {"reserved_concurrency": reserved_concurrency}
        )

    def raise_memory(self, factor: float = 1.5) -> ActionRecord:
        """More memory for the served code: update $LATEST, publish it, move the alias to the new version.

        Refused when $LATEST's code is not the code the alias serves: publishing it would ship code
        nobody released.
        """
        if factor <= 1:
            raise TargetActionError(f"a memory factor must be above 1 to raise the limit, got {factor!r}")
        before = self.state()
        alias = self._alias()
        name = self.target.function_name
        served = self.client.get_function_configuration(FunctionName=name, Qualifier=alias["FunctionVersion"])
        latest = self.client.get_function_configuration(FunctionName=name)
        if latest["CodeSha256"] != served["CodeSha256"]:
            raise TargetActionError(
                f"$LATEST of {name} holds other code than version {alias['FunctionVersion']} that alias "
                f"{self.target.alias} serves (CodeSha256 {latest['CodeSha256']} vs {served['CodeSha256']}): "
                "raising its memory would publish unreleased code"
            )
        memory = min(math.ceil(int(served["MemorySize"]) * factor), MAX_MEMORY_MB)
        if memory <= int(served["MemorySize"]):
            raise TargetActionError(f"{name} already has {served['MemorySize']} MB, Lambda's most is {MAX_MEMORY_MB}")
        self.client.update_function_configuration(FunctionName=name, MemorySize=memory)
        self.client.get_waiter("function_updated_v2").wait(FunctionName=name)
        published = self.client.publish_version(FunctionName=name)["Version"]
        self._move_alias(published, alias["RevisionId"])
        return ActionRecord(
            "raise_memory", self.target, before, self.state(), {"alias_version": published, "memory_size_mb": memory}
        )

    def undo(self, record: ActionRecord) -> ActionRecord:
        """Put back the alias (version and weights) and reserved concurrency ``record`` found before it acted."""
        before = record.before
        if not isinstance(before, LambdaFunctionState):
            raise TargetActionError(f"record of {record.action} on {record.target} is not a Lambda function's")
        now = self.state()
        alias = self._alias()
        self.client.update_alias(
            FunctionName=self.target.function_name,
            Name=self.target.alias,
            FunctionVersion=before.alias_version,
            RoutingConfig={"AdditionalVersionWeights": before.alias_weights},
            RevisionId=alias["RevisionId"],
        )
        if before.reserved_concurrency is None:
            self.client.delete_function_concurrency(FunctionName=self.target.function_name)
        else:
            self.client.put_function_concurrency(
                FunctionName=self.target.function_name, ReservedConcurrentExecutions=before.reserved_concurrency
            )
        return ActionRecord(
            f"undo_{record.action}",
            self.target,
            now,
            self.state(),
            {"alias_version": before.alias_version, "reserved_concurrency": before.reserved_concurrency},
        )

    # ------------------------------------------------------------ verifying
    def verify(self, record: ActionRecord) -> Verdict:
        """Read the alias and the function back: does it serve what ``record`` asked for?"""
        state = self.state()
        expected = record.expected
        if "alias_version" in expected and state.alias_version != expected["alias_version"]:
            return Verdict(
                VerdictStatus.NOT_TAKEN,
                f"alias {self.target.alias} serves version {state.alias_version}, not {expected['alias_version']}",
                state,
            )
        if record.action in {"rollback", "raise_memory"} and state.alias_weights:
            return Verdict(
                VerdictStatus.NOT_TAKEN,
                f"alias {self.target.alias} still sends traffic to versions {sorted(state.alias_weights)}",
                state,
            )
        if "memory_size_mb" in expected and state.memory_size_mb != expected["memory_size_mb"]:
            return Verdict(
                VerdictStatus.NOT_TAKEN,
                f"the served version has {state.memory_size_mb} MB, not {expected['memory_size_mb']}",
                state,
            )
        if "reserved_concurrency" in expected and state.reserved_concurrency != expected["reserved_concurrency"]:
            return Verdict(
                VerdictStatus.NOT_TAKEN,
                f"reserved concurrency is {state.reserved_concurrency}, not {expected['reserved_concurrency']}",
                state,
            )
        return Verdict(VerdictStatus.TAKEN, f"alias {self.target.alias} serves version {state.alias_version}", state)
