"""How many replicas a scale-out adds: enough for the traffic the service takes now.

Doubling is not enough for a surge of four times the usual traffic. An operator sizes the
scale-out from the request rate and the service's capacity plan (CPU per replica at its normal
request rate), as a horizontal autoscaler would: replicas = demand / target utilisation. CPU
itself cannot be used once saturated (it reads 100% whatever the demand). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# The utilisation a scaled-out service should run at: headroom under the 85% band for a traffic burst on top
# of the surge (1.4x the load and a few points of batch work: 50% becomes 78%). At 60% the same burst reached
# 92%, and a scale-out that had answered the surge failed its verification during the burst.
TARGET_CPU_PCT = 50.0
MAX_ADDED_REPLICAS = 50  # the catalog's scale_out schema bound


def replicas_to_add(
    replicas: int, extra: Mapping[str, Any], requests_per_tick: float | None, tick_seconds: float
) -> int | None:
    """Replicas to add so CPU per replica falls to the target; None without a capacity plan or traffic figure.

    ``extra``: the fleet view's capacity plan: ``baseline_rps``, ``baseline_cpu_pct`` (per replica)
    and ``baseline_replicas``, the service's normal operating point.
    """
    try:
        rps = float(extra["baseline_rps"])
        cpu = float(extra["baseline_cpu_pct"])
        planned = int(extra["baseline_replicas"])
    except (KeyError, TypeError, ValueError):
        return None
    if requests_per_tick is None or rps <= 0 or tick_seconds <= 0:
        return None
    # CPU-replica-percent each request/s costs, from the normal operating point.
    cost = cpu * planned / rps
    demand = cost * requests_per_tick / tick_seconds
    needed = math.ceil(demand / TARGET_CPU_PCT)
    return max(1, min(MAX_ADDED_REPLICAS, needed - replicas))
