"""Reading a service's recent metrics from CloudWatch, one value per tick (GetMetricData)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

# A stopped heartbeat is its lowest value in a period; for the rest the worst is the highest.
STATISTIC = {"Heartbeat": "Minimum"}


class MetricReader(Protocol):
    def series(self, service: str, metrics: tuple[str, ...], start: float, end: float) -> dict[str, list[float]]:
        """Per metric, one value per tick between ``start`` and ``end`` (epoch seconds), oldest first."""
        ...


def period_for(tick_real_s: float) -> int:
    """The CloudWatch period nearest one tick of real time (1, 5, 10, 30 or a multiple of 60)."""
    for allowed in (1, 5, 10, 30):
        if tick_real_s <= allowed:
            return allowed
    return max(60, round(tick_real_s / 60.0) * 60)


class CloudWatchReader:
    def __init__(self, client: Any, namespace: str, tick_real_s: float) -> None:
        self.client = client
        self.namespace = namespace
        self.period = period_for(tick_real_s)

    def series(self, service: str, metrics: tuple[str, ...], start: float, end: float) -> dict[str, list[float]]:
        queries = [
            {
                "Id": f"m{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": self.namespace,
                        "MetricName": metric,
                        "Dimensions": [{"Name": "Service", "Value": service}],
                    },
                    "Period": self.period,
                    "Stat": STATISTIC.get(metric, "Maximum"),
                },
                "ReturnData": True,
            }
            for i, metric in enumerate(metrics)
        ]
        response = self.client.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            ScanBy="TimestampAscending",
        )
        found: dict[str, list[float]] = {m: [] for m in metrics}
        for result in response.get("MetricDataResults", []):
            metric = metrics[int(result["Id"][1:])]
            pairs = sorted(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
            found[metric] = [float(v) for _, v in pairs]
        return found
