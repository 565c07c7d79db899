"""Remediator: starts one remediation execution per incident, and runs the state machine's steps but the plan.

Two entry shapes:
- an SQS batch from the incidents queue: each body must be an ``IncidentMessage``; a valid one is recorded
  (unless the detector recorded it) and starts the execution named by its incident id and episode (an existing
  execution counts as success, so a redelivered message starts nothing new); an invalid one fails that record
  only (retried, then the dead-letter queue);
- a Step Functions task ``{"step": ..., "state": <the execution's state>}`` for the steps guard,
  await_approval (with ``token``), denied, act, verify and escalate (healops/remediation/engine.py). ``act`` is
  idempotent on (incident, attempt, action). The plan step is the planner function's (functions/planner): the
  remediator, which acts, never calls a model, and its role holds no LLM settings or keys.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from healops import config, egress
from healops.logs import function_logger, redact_errors
from healops.models import IncidentMessage
from healops.redaction import redact_value
from healops.remediation.engine import Remediation, record_incident
from healops.remediation.run import RunState
from healops.remediation.wiring import build
from healops.store.incidents import IncidentsRepository

logger = function_logger()
processor = BatchProcessor(event_type=EventType.SQS)
act_idempotency = IdempotencyConfig(
    event_key_jmespath="[incident.incident_id, current.attempt_id, current.action]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)
STEPS = ("guard", "await_approval", "denied", "act", "verify", "escalate")


@cache
def stepfunctions() -> Any:
    return egress.redacting(boto3.client("stepfunctions"))  # the execution's input, redacted


@cache
def incidents() -> IncidentsRepository:
    return IncidentsRepository(config.current().require("incidents_table"), boto3.client("dynamodb"))


@cache
def engine() -> Remediation:
    return build(config.current())


def start_remediation(record: SQSRecord) -> str:
    incident = IncidentMessage.model_validate_json(record.body)
    # Recorded here, before its execution starts: the planner plans from the record and may not write it.
    record_incident(incidents(), incident)
    client = stepfunctions()
    try:
        response = client.start_execution(
            stateMachineArn=config.current().require("state_machine_arn"),
            name=incident.execution_name,
            input=incident.model_dump_json(),
        )
    except client.exceptions.ExecutionAlreadyExists:
        logger.info("execution already exists", extra={"execution": incident.execution_name})
        return incident.incident_id
    logger.info(
        "remediation started",
        extra={"incident_id": incident.incident_id, "execution_arn": response["executionArn"]},
    )
    return incident.incident_id


def _act(run: dict[str, Any]) -> dict[str, Any]:
    # Redacted here, not only by the handler: the idempotency layer stores what this returns in its table.
    return redact_value(engine().act(RunState.model_validate(run)).model_dump(mode="json"))


@cache
def act() -> Any:
    """``_act`` made idempotent on (incident, attempt, action); built on first use (it needs a client)."""
    persistence = DynamoDBPersistenceLayer(table_name=config.current().require("idempotency_table"))
    return idempotent_function(data_keyword_argument="run", config=act_idempotency, persistence_store=persistence)(_act)


def run_step(step: str, state: dict[str, Any], token: str | None) -> dict[str, Any] | None:
    incident = IncidentMessage.model_validate(state["incident"])
    run = RunState.model_validate(state["run"]) if state.get("run") else None
    if run is None and step != "escalate":
        raise ValueError(f"step {step!r} needs the run ($.run) in its state")
    remediation = engine()
    if step == "escalate" or run is None:
        return remediation.escalate(incident, run, state.get("error"))
    logger.append_keys(incident_id=incident.incident_id, step=step)
    if step == "guard":
        return remediation.guard(run).model_dump(mode="json")
    if step == "await_approval":
        if not token:
            raise ValueError("step 'await_approval' needs the task token ('token')")
        remediation.await_approval(run, token)
        return None
    if step == "denied":
        return remediation.approval_denied(run, str((state.get("error") or {}).get("Cause", "denied"))).model_dump(
            mode="json"
        )
    if step == "act":
        return act()(run=run.model_dump(mode="json"))
    return remediation.verify(run).model_dump(mode="json")


@redact_errors
def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    if isinstance(event, dict) and "Records" in event:
        return process_partial_response(
            event=event, record_handler=start_remediation, processor=processor, context=context
        )
    if isinstance(event, dict) and event.get("step") in STEPS and isinstance(event.get("state"), dict):
        act_idempotency.register_lambda_context(context)
        # The step's answer becomes the execution's state: its history keeps it, the escalation's raw fallback
        # (NotifyRaw) publishes it. The task token never is part of it (the remediations table keeps it).
        return redact_value(run_step(event["step"], event["state"], event.get("token")))
    raise ValueError(
        "remediator accepts an SQS batch ({'Records': [...]}) or a Step Functions task "
        f"({{'step': one of {', '.join(STEPS)}, 'state': {{...}}}}; the plan step is the planner function's); "
        "got neither"
    )
