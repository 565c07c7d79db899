"""Metric names of real platforms mapped onto the eight metrics the service detector reads (pure).

The detector (``healops.detection.service``) reads ``HealOps/Services`` metrics: ``CPUUtilization``,
``MemoryUtilization``, ``DiskUtilization`` (percent), ``LatencyP50``, ``LatencyP99`` (milliseconds), ``ErrorRate``
(percent), ``RequestCount`` and ``Heartbeat`` (replicas reporting). A target that publishes other names (an ECS
service, a Lambda function, a load balancer, a Kubernetes pod, an X-Ray service-map node) is read through
:data:`RULES`: per source metric name, the detector metric it stands for and how its unit converts. Where a source
has two metrics for one detector metric, the rule listed first wins (the closest in meaning).

``to_detector_metrics`` maps one sample of one service; ``ErrorRate`` is derived from error and request counts
when no rate is published, and ``Heartbeat`` counts the instances that reported any metric when no replica count
is published (one row per pod or task: a missing instance is a missing heartbeat).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from healops.models.metrics import METRIC_UNITS


class Convert(Enum):
    SAME = "same"
    SECONDS_TO_MS = "seconds_to_ms"
    AVAILABILITY_TO_ERROR_PCT = "availability_to_error_pct"  # 100 - availability (percent)
    ERRORS = "errors"  # an error count: ErrorRate = 100 x errors / requests


@dataclass(frozen=True)
class MetricRule:
    source: str  # the source's metric name (statistic suffix included where the source names it so)
    target: str  # a detector metric (``METRIC_UNITS``), or "errors" for an error count
    convert: Convert = Convert.SAME
    platform: str = ""  # where the name comes from, for readers of the table


RULES: tuple[MetricRule, ...] = (
    # AWS/ECS (CloudWatch Container Insights names too)
    MetricRule("CPUUtilization", "CPUUtilization", platform="AWS/ECS"),
    MetricRule("MemoryUtilization", "MemoryUtilization", platform="AWS/ECS"),
    MetricRule("RunningTaskCount", "Heartbeat", platform="ECS/ContainerInsights"),
    # Application Load Balancer, per target group
    MetricRule("TargetResponseTime_p50", "LatencyP50", Convert.SECONDS_TO_MS, "AWS/ApplicationELB"),
    MetricRule("TargetResponseTime_p99", "LatencyP99", Convert.SECONDS_TO_MS, "AWS/ApplicationELB"),
    MetricRule("RequestCount", "RequestCount", platform="AWS/ApplicationELB"),
    MetricRule("HTTPCode_Target_5XX_Count", "errors", Convert.ERRORS, "AWS/ApplicationELB"),
    MetricRule("HealthyHostCount", "Heartbeat", platform="AWS/ApplicationELB"),
    # AWS/Lambda (Duration is in milliseconds)
    MetricRule("Duration_p50", "LatencyP50", platform="AWS/Lambda"),
    MetricRule("Duration_p99", "LatencyP99", platform="AWS/Lambda"),
    MetricRule("Invocations", "RequestCount", platform="AWS/Lambda"),
    MetricRule("Errors", "errors", Convert.ERRORS, "AWS/Lambda"),
    # X-Ray service map / CloudWatch ServiceLens node statistics (seconds, percent, count per period)
    MetricRule("latency_p50", "LatencyP50", Convert.SECONDS_TO_MS, "X-Ray"),
    MetricRule("latency_p99", "LatencyP99", Convert.SECONDS_TO_MS, "X-Ray"),
    MetricRule("requests_Sum", "RequestCount", platform="X-Ray"),
    MetricRule("availability_Average", "ErrorRate", Convert.AVAILABILITY_TO_ERROR_PCT, "X-Ray"),
    # Kubernetes pods: cAdvisor and Istio via Prometheus (Nezha's names). Istio's pod series have no median:
    # the lowest percentile published stands in for the typical latency.
    MetricRule("CpuUsageRate(%)", "CPUUtilization", platform="cAdvisor"),
    MetricRule("MemoryUsageRate(%)", "MemoryUtilization", platform="cAdvisor"),
    MetricRule("PodServerLatencyP90(s)", "LatencyP50", Convert.SECONDS_TO_MS, "Istio"),
    MetricRule("PodServerLatencyP99(s)", "LatencyP99", Convert.SECONDS_TO_MS, "Istio"),
    MetricRule("PodWorkload(Ops)", "RequestCount", platform="Istio"),
)
RULE_BY_SOURCE: dict[str, MetricRule] = {}
for _rule in RULES:
    if _rule.target != "errors" and _rule.target not in METRIC_UNITS:
        raise ValueError(f"metric rule {_rule.source!r} maps to {_rule.target!r}, not a detector metric")
    RULE_BY_SOURCE.setdefault(_rule.source, _rule)


def mapped_sources(names: list[str]) -> dict[str, MetricRule]:
    """The rule of each source name that has one, keeping the first rule per detector metric (``RULES`` order)."""
    order = {rule.source: i for i, rule in enumerate(RULES)}
    known = sorted((n for n in names if n in RULE_BY_SOURCE), key=order.__getitem__)
    chosen: dict[str, MetricRule] = {}
    taken: set[str] = set()
    for name in known:
        rule = RULE_BY_SOURCE[name]
        if rule.target not in taken:
            chosen[name] = rule
            taken.add(rule.target)
    return chosen


def to_detector_metrics(sample: Mapping[str, float | None], instances_reporting: int | None = None) -> dict[str, float]:
    """One service's sample (source metric name -> value, None or NaN for missing) as detector metrics.

    ``instances_reporting``: how many of the service's instances (pods, tasks) reported this sample; used as the
    ``Heartbeat`` when the source publishes no replica count."""
    values = {k: float(v) for k, v in sample.items() if v is not None and math.isfinite(float(v))}
    out: dict[str, float] = {}
    errors: float | None = None
    for name, rule in mapped_sources(list(values)).items():
        x = values[name]
        if rule.convert is Convert.ERRORS:
            errors = x
        elif rule.convert is Convert.SECONDS_TO_MS:
            out[rule.target] = x * 1000.0
        elif rule.convert is Convert.AVAILABILITY_TO_ERROR_PCT:
            out[rule.target] = max(0.0, 100.0 - x)
        else:
            out[rule.target] = x
    if errors is not None and "ErrorRate" not in out and out.get("RequestCount", 0.0) > 0:
        out["ErrorRate"] = min(100.0, 100.0 * errors / out["RequestCount"])
    if "Heartbeat" not in out and instances_reporting is not None and out:
        out["Heartbeat"] = float(instances_reporting)
    return out
