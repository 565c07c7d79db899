"""Secrets planted in an incident never reach a table, the SNS message or a log line.

Every kind of secret the redactor knows is planted where untrusted text enters remediation: the incident's
summary, a detector signal's detail, a log line the planner read, a planner that repeats all of it (in its
diagnosis, evidence, rationales and its own audit), a human's denial reason and a step's error. The engine
then runs plan, guard, approval (denied), act, verify, act again, and escalates when a step fails; every
item of every table, the escalation and the captured logs are searched for each secret.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from healops.llm.types import (
    Diagnosis,
    IncidentContext,
    LogExcerpt,
    PlanOutcome,
    ProposedAction,
    ReasonerPlan,
    SignalSummary,
)
from healops.models.incident import IncidentMessage
from healops.remediation.policy import RemediationLimits
from healops.store.agent_decisions import AgentDecisionsRepository, DecisionStep
from healops.store.incidents import IncidentRecord
from healops.store.llm_actions import LlmActionsRepository, LlmCallRecord
from tests.unit.remediation.world import World

SECRETS = {
    "AWS access key": "AKIAQX7RZ2M4N5P6Q7R8",
    "AWS secret access key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "bearer token": "qF3x9LmZ2vT8kR1wN6yH4s",
    "vendor API key": "sk-proj-4fG7hJ2kL9mN3pQ6rS8tV1wX",
    "API key header": "7f9c2ba4e88f827d6160",
    "password in a URL": "Tr0ub4dor-and-3",
    "e-mail address": "jane.oncall@example.com",
}
TABLES = ("incidents", "remediations", "agent_decisions", "llm_actions")
SERVICE = "ledger-db"
INCIDENT_ID = "unit-secrets"


def leaky(where: str) -> str:
    """A line quoting every secret, as a careless log line or config dump does (under 400 characters)."""
    s = SECRETS
    return (
        f"{where}: login {s['e-mail address']} to postgres://ledger:{s['password in a URL']}@db:5432/l; "
        f"Authorization: Bearer {s['bearer token']}; x-api-key: {s['API key header']}; "
        f"env {s['AWS access key']} {s['AWS secret access key']} {s['vendor API key']}"
    )


class ParrotPlanner:
    """A planner that repeats everything it read: the incident's summary, a signal and a log line (what a
    context builder fetches), in its diagnosis, evidence and rationales; and writes its raw prompt and answer
    and its reasoning through the audit repositories without redacting anything."""

    def __init__(self, dynamodb: Any) -> None:
        self.calls = LlmActionsRepository("llm_actions", dynamodb)
        self.decisions = AgentDecisionsRepository("agent_decisions", dynamodb)

    def __call__(self, context: IncidentContext, deadline: float | None = None) -> PlanOutcome:
        context = context.model_copy(
            update={
                "signals": [SignalSummary(name="LogStorm", service=SERVICE, score=9.0, detail=leaky("signal"))],
                "logs": [LogExcerpt(service=SERVICE, line=leaky("log line"))],
            }
        )
        read = [context.summary, context.signals[0].detail, context.logs[0].line]
        plan = ReasonerPlan(
            diagnosis=Diagnosis(
                root_cause=leaky("root cause"),
                fault_kind="dependency_failure",
                affected_services=[SERVICE],
                confidence=0.6,
                evidence=read,
            ),
            actions=[
                ProposedAction(action=action, service=SERVICE, rationale=leaky(action))
                for action in ("failover", "restart_service", "no_op_observe")
            ],
        )
        at = datetime.now(UTC).isoformat()
        self.calls.record(
            LlmCallRecord(
                incident_id=context.incident_id,
                call_id=f"{at}#parrot",
                at=at,
                provider="parrot",
                model="echo-1",
                prompt=context.model_dump_json(),
                response=plan.model_dump_json(),
                validation="valid",
                errors=read,
                fallback_reason=leaky("fallback"),
            )
        )
        self.decisions.append(
            context.incident_id,
            [
                DecisionStep(
                    phase="concluded",
                    title=f"concluded from {SECRETS['e-mail address']} and {SECRETS['AWS access key']}",
                    detail=leaky("detail"),
                    data={"read": read},
                )
            ],
            at,
        )
        return PlanOutcome(
            incident_id=context.incident_id, plan=plan, provider="parrot", requested_provider="parrot", model="echo-1"
        )


def every_item(dynamodb: Any) -> dict[str, list[dict[str, Any]]]:
    # A scan is fine here: the test reads every record there is, on moto.
    return {table: dynamodb.scan(TableName=table)["Items"] for table in TABLES}


def leaks(text: str) -> list[str]:
    """The secrets found in ``text``, whole or their first 10 characters (a secret cut before it was redacted)."""
    return [kind for kind, secret in SECRETS.items() if secret[:10] in text]


def test_secrets_planted_in_an_incident_reach_no_table_message_or_log(
    dynamodb: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = World(dynamodb, RemediationLimits(cooldown_s=0, approval_actions={"*": ["failover"]}))
    world.engine.planner = ParrotPlanner(dynamodb)
    engine = world.engine
    world.tick(5)
    world.sim.inject(SERVICE, "dependency_failure")
    world.tick(3)
    # The detector's own record of another incident: summary and signal details quote the secrets too.
    assert engine.incidents.create_if_absent(
        IncidentRecord(
            incident_id="unit-secrets-detected",
            service=SERVICE,
            kind="log_storm",
            summary=leaky("detector summary"),
            signals=[{"kind": "log_storm", "service": SERVICE, "score": 9.0, "detail": leaky("signal detail")}],
        )
    )
    message = IncidentMessage(
        incident_id=INCIDENT_ID,
        service=SERVICE,
        kind="errors",
        opened_at=datetime.now(UTC),
        severity="high",
        summary=leaky("summary"),
    )

    run = engine.plan(message)
    # The run is the execution's state, kept in its history: the planner's words in it are redacted too.
    planned = run.model_dump_json(include={"diagnosis", "candidates"})
    assert not leaks(planned), f"the execution state carries {leaks(planned)}"
    run = engine.guard(run)
    assert run.route == "await_approval", run.tried  # the policy lists failover for a human
    engine.await_approval(run, task_token="token-1")
    run = engine.approval_denied(run, cause=f"not during the freeze, ask {SECRETS['e-mail address']}: {leaky('human')}")
    run = engine.guard(run)
    assert run.route == "act", run.tried
    run = engine.act(run)
    while run.route == "wait":
        world.tick(max(1, run.wait_s // 60))
        run = engine.verify(run)
    assert run.route == "next", run.tried  # a restart does not fix a failed dependency
    run = engine.act(engine.guard(run))
    # The verify step throws, quoting what it read; the state machine's Catch escalates with the error.
    cause = {"errorType": "ValueError", "errorMessage": leaky("verify"), "stackTrace": [leaky("frame")]}
    escalation = engine.escalate(message, run, {"Error": "ValueError", "Cause": json.dumps(cause)})

    stored = every_item(dynamodb)
    assert all(stored[table] for table in TABLES), {t: len(i) for t, i in stored.items()}
    for table, items in stored.items():
        assert not leaks(json.dumps(items)), f"{table} stores {leaks(json.dumps(items))}"
    published = escalation["subject"] + "\n" + escalation["message"]
    assert not leaks(published), f"the SNS message carries {leaks(published)}"
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert not leaks(logged), f"the logs carry {leaks(logged)}"

    # Redacted, not dropped: the records and the message still read.
    incident = engine.incidents.get(INCIDENT_ID)
    assert incident is not None and incident.status == "escalated"
    assert "[REDACTED]" in incident.summary and "postgres://ledger:[REDACTED]@db" in incident.summary
    assert incident.escalation_reason and incident.escalation_reason.startswith("the verify step failed: ValueError")
    assert "Why it was escalated: the verify step failed: ValueError: verify: login [REDACTED]" in published
    assert "failover on ledger-db: a human denied it (not during the freeze, ask [REDACTED]" in published
    detected = engine.incidents.get("unit-secrets-detected")
    assert detected is not None and "[REDACTED]" in detected.signals[0]["detail"]


def test_a_repository_redacts_with_the_redactor_it_is_given(dynamodb: Any) -> None:
    """A configured key (one no pattern knows) is redacted verbatim when the repository is given its redactor."""
    from healops.redaction import Redactor
    from healops.store.incidents import IncidentsRepository

    repo = IncidentsRepository(
        "incidents", boto3.client("dynamodb", region_name="us-east-1"), Redactor(["plainkey123"])
    )
    repo.create_if_absent(
        IncidentRecord(incident_id="unit-known", service=SERVICE, kind="x", summary="key plainkey123")
    )
    stored = dynamodb.get_item(TableName="incidents", Key={"incident_id": {"S": "unit-known"}})["Item"]
    assert stored["summary"]["S"] == "key [REDACTED]"
