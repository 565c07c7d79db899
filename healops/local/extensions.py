"""The extensions the embedded cloud installs, in order, as ``module:Class`` paths.

Order matters where one extension relies on another's patch: the Lambda runtime comes first
because the SQS poller, EventBridge delivery and Step Functions tasks all invoke functions
through moto's Lambda backend, which the runtime has taken over.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from healops.local.base import Extension

DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "healops.local.awslambda:LambdaRuntime",
    "healops.local.sqs:EventSourceMappingPoller",
    "healops.local.stepfunctions:StepFunctionsExtras",
    "healops.local.events:EventBridgeDelivery",
    "healops.local.cloudwatch:CloudWatchExtension",
    "healops.local.dynamodb:IndexedGlobalSecondaryIndexes",
    "healops.local.ecs:ServiceDeployments",
    # After the Lambda runtime: it routes Invoke to a version, whose handler the runtime then runs.
    "healops.local.lambdaaliases:AliasRouting",
)


def load(paths: tuple[str, ...] = DEFAULT_EXTENSIONS) -> list[Extension]:
    """Instantiate each ``module:Class`` path."""
    extensions: list[Extension] = []
    for path in paths:
        module_name, _, class_name = path.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        extensions.append(cls())
    return extensions
