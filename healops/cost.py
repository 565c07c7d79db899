"""What Heal-Ops costs to run on AWS, per watched service-month, from list prices (pure: no AWS calls).

The model counts what the deployed stack does at a schedule (``tick_seconds``, 60 by default) for a
fleet of ``services``: the detector's GetMetricData queries (8 metrics a service a tick), one alarm a
service, the detector's Lambda invocations and GB-seconds, its DynamoDB state (one read and one write
a service a tick, in batches), the incidents' remediation (Step Functions transitions, remediator
invocations), and the stack's fixed costs (its KMS key, X-Ray traces). It leaves out what the watched
services pay anyway (their own metrics and logs: AWS/ECS, AWS/Lambda and their log ingestion) and the
demo fleet's metrics_generator (only the simulated fleet needs it). Prices are us-east-1 list prices
as published by AWS (no free tier); ``PRICES_AS_OF`` says when they were read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

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
    metrics_per_service: int = 8
    alarms_per_service: int = 1
    lambda_memory_mb: int = 256
    # Warm detector tick over 1,000 services: 4.5 s (docs/benchmarks.md, "Detector tick", bounded log reads);
    # taken as a fixed 0.5 s plus 4 ms a service.
    detector_fixed_s: float = 0.5
    detector_per_service_s: float = 0.004
    # Detector state: one item a service a tick, read (eventually consistent, < 4 KB) and written (< 1 KB).
    state_reads_per_service_tick: float = 0.5
    state_writes_per_service_tick: float = 1.0
    incidents_per_service_month: float = 2.0
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


def estimate(workload: Workload, prices: Prices | None = None) -> Estimate:
    if workload.services < 1 or workload.tick_seconds < 1:
        raise ValueError(
            f"services ({workload.services}) and tick_seconds ({workload.tick_seconds}) must be at least 1"
        )
    p = prices or Prices()
    w = workload
    ticks = SECONDS_PER_MONTH / w.tick_seconds
    gb = w.lambda_memory_mb / 1024
    detector_s = w.detector_fixed_s + w.detector_per_service_s * w.services
    incidents = w.incidents_per_service_month * w.services
    metrics = w.metrics_per_service * w.services * ticks
    items: list[tuple[str, float, str, float]] = [
        ("GetMetricData (detector)", metrics, "metrics", metrics * p.get_metric_data_per_metric),
        (
            "CloudWatch alarms",
            w.alarms_per_service * w.services,
            "alarm-months",
            w.alarms_per_service * w.services * p.alarm_standard_month,
        ),
        ("Lambda requests (detector)", ticks, "invocations", ticks * p.lambda_request),
        ("Lambda duration (detector)", ticks * detector_s * gb, "GB-s", ticks * detector_s * gb * p.lambda_gb_second),
        (
            "DynamoDB detector state",
            w.services * ticks * (w.state_reads_per_service_tick + w.state_writes_per_service_tick),
            "request units",
            w.services
            * ticks
            * (
                w.state_reads_per_service_tick * p.dynamodb_read_request_unit
                + w.state_writes_per_service_tick * p.dynamodb_write_request_unit
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
