"""Detection core, pure Python and AWS-free (the detector Lambda and the NAB benchmark run the same code).

- ``anomaly``: online per-series anomaly scores with bounded, serialisable state;
- ``art``: the ART view (new window shapes by fuzzy ART) that gates the anomaly score;
- ``prediction``: time to exhaustion (Theil-Sen) and multi-window SLO burn-rate alerts;
- ``logs``: error storms and new exception signatures.
"""

from __future__ import annotations

from healops.detection.anomaly import DetectorConfig, StreamingAnomalyDetector
from healops.detection.logs import ErrorStormDetector, ExceptionSignatureTracker, fingerprint, normalise_message
from healops.detection.prediction import BurnRateMonitor, BurnRateRule, ExhaustionForecast, forecast_exhaustion

__all__ = [
    "BurnRateMonitor",
    "BurnRateRule",
    "DetectorConfig",
    "ErrorStormDetector",
    "ExceptionSignatureTracker",
    "ExhaustionForecast",
    "StreamingAnomalyDetector",
    "fingerprint",
    "forecast_exhaustion",
    "normalise_message",
]
