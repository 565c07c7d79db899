"""A stack for dashboard tests on an in-process embedded cloud: Terraform's tables, a DLQ, the
discovery document, log groups, the artifacts bucket, a seeded fleet, and incidents with their trace."""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from healops.dashboard.resources import StackResources
from healops.deploy.tables import create_tables, table_specs
from healops.fleet.definition import load_definition
from healops.local.cloudwatch import CloudWatchExtension
from healops.local.context import EmbeddedContext
from healops.local.dynamodb import IndexedGlobalSecondaryIndexes
from healops.local.server import EmbeddedCloud
from healops.local.stepfunctions import StepFunctionsExtras
from healops.models.fleet import ServiceState
from healops.store.agent_decisions import DecisionStep
from healops.store.incidents import IncidentRecord
from healops.store.llm_actions import LlmCallRecord
from healops.store.remediations import RemediationAttempt
from tests.conftest import make_client

XSS_LOG = '"><script>window.__pwned_log=1</script><img src=x onerror="window.__pwned_img=1">'
XSS_LLM = (
    "</pre><script>window.__pwned_llm=1</script>' onmouseover='window.__pwned_attr=1' "
    '"><svg onload=window.__pwned_svg=1>'
)


def start_cloud(state_dir: Path) -> EmbeddedCloud:
    ctx = EmbeddedContext(port=0, state_dir=state_dir)
    return EmbeddedCloud(
        ctx, extensions=[CloudWatchExtension(), IndexedGlobalSecondaryIndexes(), StepFunctionsExtras()]
    ).start()


@dataclass
class DashboardStack:
    endpoint_url: str
    prefix: str
    resources: StackResources

    def client(self, service: str) -> Any:
        return make_client(self.endpoint_url, service)


def deploy(endpoint_url: str, prefix: str | None = None, seed_fleet: bool = True) -> DashboardStack:
    """What Terraform would create for the dashboard to read, under a unique name prefix."""
    prefix = prefix or f"d{uuid.uuid4().hex[:8]}"

    def client(service: str) -> Any:
        return make_client(endpoint_url, service)

    tables = create_tables(client("dynamodb"), {key: f"{prefix}-{key}" for key in table_specs()})
    dlq = client("sqs").create_queue(QueueName=f"{prefix}-incidents-dlq")["QueueUrl"]
    bucket = f"{prefix}-artifacts"
    client("s3").create_bucket(Bucket=bucket)
    definition = load_definition()
    discovery = {
        "tables": tables,
        "incidents_dlq_url": dlq,
        "buckets": {"artifacts": bucket},
        "metrics_namespace": "HealOps/Services",
        "service_count": len(definition.services),
        "service_log_group_pattern": f"/{prefix}/services/{{service}}",
    }
    client("ssm").put_parameter(Name=f"/{prefix}/stack", Type="String", Value=json.dumps(discovery))
    res = StackResources(name_prefix=prefix, endpoint_url=endpoint_url, client_factory=client, summary_ttl_s=0)
    if seed_fleet:
        now = datetime.now(tz=UTC).isoformat()
        for spec in definition.services:
            res.fleet.create(ServiceState.initial(spec, definition.digest, now))
    return DashboardStack(endpoint_url, prefix, res)


def ago(minutes: float, now: datetime | None = None) -> str:
    return ((now or datetime.now(tz=UTC)) - timedelta(minutes=minutes)).isoformat()


def seed_incident(
    stack: DashboardStack,
    incident_id: str,
    service: str = "checkout",
    status: str = "open",
    opened_minutes_ago: float = 10,
    **fields: Any,
) -> IncidentRecord:
    record = IncidentRecord(
        incident_id=incident_id,
        service=service,
        kind=fields.pop("kind", "error_rate"),
        status=status,  # type: ignore[arg-type]
        opened_at=ago(opened_minutes_ago),
        **fields,
    )
    assert stack.resources.incidents.create_if_absent(record)
    return record


def seed_trace(stack: DashboardStack, incident_id: str, service: str = "checkout", llm_response: str = "") -> None:
    """The detector's and remediator's audit: steps, one LLM call, one attempt, a log line and metrics."""
    res = stack.resources
    at = datetime.now(tz=UTC).isoformat()
    res.agent_decisions.append(
        incident_id,
        [
            DecisionStep(
                phase="observed", title="ErrorRate 38% over 3 periods", detail="baseline 0.4%", actor="detector"
            ),
            DecisionStep(phase="concluded", title="bad deploy on checkout", detail="errors began after v2.4.1"),
            DecisionStep(phase="chosen", title="rollback checkout to v2.4.0", data={"action": "rollback"}),
        ],
        at=at,
    )
    res.llm_actions.record(
        LlmCallRecord(
            incident_id=incident_id,
            call_id=f"{at}#abc123",
            at=at,
            provider="offline",
            model="rules-v1",
            prompt="Incident on checkout. Quoted log line: <<<" + XSS_LOG + ">>>",
            response=llm_response or '{"diagnosis": "bad deploy", "actions": [{"action": "rollback"}]}',
            latency_ms=12.5,
            tokens_in=420,
            tokens_out=60,
            validation="valid",
        )
    )
    res.remediations.record(
        RemediationAttempt(
            incident_id=incident_id,
            attempt_id="0001-rollback",
            service=service,
            action="rollback",
            planner="offline",
            rationale="errors began with the deploy",
            guard_decision="allow",
            guard_reasons=["rollback is allowed for checkout", "circuit breaker closed"],
            verification="recovered",
            outcome="verified",
            metrics_before={"ErrorRate": 38.0},
            metrics_after={"ErrorRate": 0.5},
        )
    )


def put_telemetry(stack: DashboardStack, service: str, messages: list[str]) -> None:
    now = datetime.now(tz=UTC)
    cloudwatch = stack.client("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="HealOps/Services",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Service", "Value": service}],
                "Timestamp": now - timedelta(minutes=m),
                "Value": value + m,
            }
            for m in range(0, 12, 2)
            for name, value in (("ErrorRate", 30.0), ("CPUUtilization", 50.0), ("LatencyP99", 300.0))
        ],
    )
    logs = stack.client("logs")
    group = stack.resources.log_group(service)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    stream = f"s-{uuid.uuid4().hex[:6]}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    stamp = int(now.timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": stamp - (len(messages) - 1 - i), "message": m} for i, m in enumerate(messages)],
    )
