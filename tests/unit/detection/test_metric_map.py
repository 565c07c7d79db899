from __future__ import annotations

import math

import pytest

from healops.detection.metric_map import to_detector_metrics


def test_load_balancer_and_lambda_names_become_detector_metrics_in_the_detectors_units() -> None:
    alb_sample = {"TargetResponseTime_p99": 0.25, "RequestCount": 200.0, "HTTPCode_Target_5XX_Count": 10.0}
    alb = to_detector_metrics(alb_sample | {"HealthyHostCount": 3.0})
    assert alb == {"LatencyP99": 250.0, "RequestCount": 200.0, "ErrorRate": 5.0, "Heartbeat": 3.0}
    function = to_detector_metrics({"Duration_p50": 12.0, "Invocations": 50.0, "Errors": 1.0})
    assert function == {"LatencyP50": 12.0, "RequestCount": 50.0, "ErrorRate": 2.0}


def test_service_map_availability_is_an_error_rate_and_missing_values_are_skipped() -> None:
    node = {"availability_Average": 97.5, "latency_p50": 0.004, "requests_Sum": None, "latency_p99": math.nan}
    assert to_detector_metrics(node) == {"ErrorRate": pytest.approx(2.5), "LatencyP50": pytest.approx(4.0)}


def test_a_pod_reporting_is_one_replica_heartbeat_and_the_closest_name_wins_a_metric() -> None:
    pod = {"CpuUsageRate(%)": 40.0, "CPUUtilization": 90.0, "PodServerLatencyP90(s)": 0.02, "CpuUsage(m)": 400.0}
    assert to_detector_metrics(pod, instances_reporting=1) == {
        "CPUUtilization": 90.0,  # AWS/ECS's own name comes first in RULES
        "LatencyP50": pytest.approx(20.0),
        "Heartbeat": 1.0,
    }
    assert to_detector_metrics({"CpuUsage(m)": 400.0}, instances_reporting=1) == {}  # nothing mapped: no heartbeat
