"""The demo fleet's Lambda workloads (terraform/demo_fleet.tf: auth, notifications): not a Heal-Ops function.

It answers and says which version answered, so a test sees where the `live` alias routes; what Heal-Ops heals
it through is its configuration (alias, memory, reserved concurrency), not this code.
"""

from __future__ import annotations

import os
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "ok": True,
        "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", ""),
    }
