"""The metrics every fleet service publishes (namespace ``HealOps/Services``, dimension ``Service``).

One list for the generator that writes them and the detector, remediator and dashboard that read them.
"""

from __future__ import annotations

METRIC_UNITS: dict[str, str] = {
    "CPUUtilization": "Percent",
    "MemoryUtilization": "Percent",
    "DiskUtilization": "Percent",
    "LatencyP50": "Milliseconds",
    "LatencyP99": "Milliseconds",
    "ErrorRate": "Percent",
    "RequestCount": "Count",
    "Heartbeat": "Count",
}
SERVICE_METRICS: tuple[str, ...] = tuple(METRIC_UNITS)
