"""What Heal-Ops costs to run on AWS, per watched service-month, from list prices (pure: no AWS calls).

The model counts what the deployed stack does at a schedule (``tick_seconds``, 60 by default) for a fleet of
``services``: the detector's GetMetricData queries (8 metrics a service per read, a read every
``read_every_ticks`` ticks, 1 by default, as healops/detection/schedule.py schedules them; GetMetricData is
priced per metric requested per call, however many points a metric returns, so one read of ten one-minute
points costs a tenth of ten reads; and each opened incident's evidence, 8 metrics of each of its services),
one alarm a service, the detector's Lambda invocations (every tick, most of them returning at once) and
GB-seconds, its DynamoDB state (one read and one write a service per read, in batches), the incidents'
remediation (Step Functions transitions, remediator invocations), and the stack's fixed costs (its KMS key,
X-Ray traces). It leaves out what the watched services pay anyway (their own metrics and logs: AWS/ECS,
AWS/Lambda and their log ingestion) and the demo fleet's metrics_generator (only the simulated fleet needs
it). Prices are us-east-1 list prices as published by AWS (no free tier); ``PRICES_AS_OF`` says when they were
read.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from healops.detection.schedule import DEFAULT_READ_EVERY_TICKS
from healops.detection.sources import QUERIES_PER_CALL

PRICES_AS_OF = "2026-12 (AWS public pricing pages, us-east-1, no free tier)"
SECONDS_PER_MONTH = 30 * 86_400


@dataclass(frozen=True)
class Prices:
    get_metric_data_per_metric: float = 0.01 / 1_000
    alarm_standard_month: float = 0.10
    lambda_request: float = 0.20 / 1_000_000
    lambda_gb_second: float = 0.0000166667
    dynamodb_write_request_unit: float = 0.625 / 1_000_000
    dynamodb_read_request_unit: float = 0.125 / 1_000_000
    sfn_state_transition: float = 0.025 / 1_000
    kms_key_month: float = 1.00
    xray_trace_recorded: float = 5.00 / 1_000_000


@dataclass(frozen=True)
class Workload:
    """What the stack does; the defaults are the deployed defaults and measured figures (docs/cost.md)."""

    services: int = 1_000
    tick_seconds: int = 60
    read_every_ticks: int = DEFAULT_READ_EVERY_TICKS  # the detector reads the metrics every this many ticks
    metrics_per_service: int = 8
    alarms_per_service: int = 1
    lambda_memory_mb: int = 256
    # Warm detector tick over 1,000 services: 4.5 s (docs/benchmarks.md, "Detector tick", bounded log reads);
    # taken as a fixed 0.5 s plus 4 ms a service a tick read (a read of N ticks steps N per service: taken as
    # N times the work, an upper bound, as the calls' latency is shared). A tick that is not a read returns at once.
    detector_fixed_s: float = 0.5
    detector_per_service_s: float = 0.004
    detector_skip_s: float = 0.01
    # Detector state: one item a service per read, read (eventually consistent, < 4 KB) and written (< 1 KB).
    state_reads_per_service_read: float = 0.5
    state_writes_per_service_read: float = 1.0
    incidents_per_service_month: float = 2.0
    # Services in an incident when it opens (its root and the callers linked to it): its evidence reads their
    # window, 8 metrics each (an assumption: a leaf's fault links none, a dependency failure its callers).
    services_per_incident: float = 2.0
    transitions_per_incident: int = 14
    remediator_invocations_per_incident: int = 6
    remediator_seconds_per_invocation: float = 1.0
    # Traced invocations a tick (detector, metrics_generator); Lambda samples all at one a minute.
    traced_invocations_per_tick: int = 2


@dataclass(frozen=True)
class Line:
    item: str
    quantity: float
    unit: str
    monthly_usd: float
    per_service_month_usd: float


@dataclass(frozen=True)
class Estimate:
    workload: Workload
    lines: list[Line] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    @property
    def per_service_month_usd(self) -> float:
        return self.monthly_usd / self.workload.services

    def as_dict(self) -> dict[str, object]:
        return {
            "prices_as_of": PRICES_AS_OF,
            "workload": asdict(self.workload),
            "lines": [asdict(line) for line in self.lines],
            "monthly_usd": round(self.monthly_usd, 2),
            "per_service_month_usd": round(self.per_service_month_usd, 4),
        }


def metrics_per_read(workload: Workload) -> int:
    """Metrics one detector read requests: every service's metrics, in one GetMetricData query each."""
    return workload.metrics_per_service * workload.services


def calls_per_read(workload: Workload) -> int:
    """GetMetricData calls of one read (at most ``QUERIES_PER_CALL`` queries a call; a read of up to 15 one-minute
    points of 500 metrics is far under the 100,800 points a call returns, so no call pages)."""
    return math.ceil(metrics_per_read(workload) / QUERIES_PER_CALL)


def estimate(workload: Workload, prices: Prices | None = None) -> Estimate:
    if workload.services < 1 or workload.tick_seconds < 1 or workload.read_every_ticks < 1:
        raise ValueError(
            f"services ({workload.services}), tick_seconds ({workload.tick_seconds}) and read_every_ticks "
            f"({workload.read_every_ticks}) must be at least 1"
        )
    p = prices or Prices()
    w = workload
    ticks = SECONDS_PER_MONTH / w.tick_seconds
    reads = ticks / w.read_every_ticks
    gb = w.lambda_memory_mb / 1024
    read_s = w.detector_fixed_s + w.detector_per_service_s * w.services * w.read_every_ticks
    detector_gb_s = (reads * read_s + (ticks - reads) * w.detector_skip_s) * gb
    incidents = w.incidents_per_service_month * w.services
    metrics = metrics_per_read(w) * reads
    evidence = incidents * w.services_per_incident * w.metrics_per_service  # an opened incident's evidence
    items: list[tuple[str, float, str, float]] = [
        ("GetMetricData (detector)", metrics, "metrics", metrics * p.get_metric_data_per_metric),
        ("GetMetricData (incident evidence)", evidence, "metrics", evidence * p.get_metric_data_per_metric),
        (
            "CloudWatch alarms",
            w.alarms_per_service * w.services,
            "alarm-months",
            w.alarms_per_service * w.services * p.alarm_standard_month,
        ),
        ("Lambda requests (detector)", ticks, "invocations", ticks * p.lambda_request),
        ("Lambda duration (detector)", detector_gb_s, "GB-s", detector_gb_s * p.lambda_gb_second),
        (
            "DynamoDB detector state",
            w.services * reads * (w.state_reads_per_service_read + w.state_writes_per_service_read),
            "request units",
            w.services
            * reads
            * (
                w.state_reads_per_service_read * p.dynamodb_read_request_unit
                + w.state_writes_per_service_read * p.dynamodb_write_request_unit
            ),
        ),
        (
            "Step Functions (remediation)",
            incidents * w.transitions_per_incident,
            "transitions",
            incidents * w.transitions_per_incident * p.sfn_state_transition,
        ),
        (
            "Lambda (remediator)",
            incidents * w.remediator_invocations_per_incident,
            "invocations",
            incidents
            * w.remediator_invocations_per_incident
            * (p.lambda_request + w.remediator_seconds_per_invocation * gb * p.lambda_gb_second),
        ),
        ("KMS key", 1, "key-months", p.kms_key_month),
        (
            "X-Ray traces",
            ticks * w.traced_invocations_per_tick,
            "traces",
            ticks * w.traced_invocations_per_tick * p.xray_trace_recorded,
        ),
    ]
    lines = [Line(name, quantity, unit, cost, cost / w.services) for name, quantity, unit, cost in items]
    return Estimate(w, lines)
