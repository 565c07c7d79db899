"""Remediator: starts one remediation execution per incident, and answers the Plan task.

Two entry shapes:
- an SQS batch from the incidents queue: each body must be an ``IncidentMessage``; a valid one
  starts the state machine execution named by its incident id (an existing execution counts as
  success, so a redelivered message starts nothing new); an invalid one fails that record only
  (it is retried and, after the queue's max receives, lands in the dead-letter queue);
- a Step Functions task ``{"step": "plan", "incident": {...}}``: returns a ``PlanResult``. No
  planner exists yet, so every plan is empty and the state machine escalates.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from healops import config
from healops.models import IncidentMessage, PlanRequest, PlanResult

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


@cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions")


def start_remediation(record: SQSRecord) -> str:
    incident = IncidentMessage.model_validate_json(record.body)
    client = stepfunctions()
    try:
        response = client.start_execution(
            stateMachineArn=config.current().require("state_machine_arn"),
            name=incident.incident_id,
            input=incident.model_dump_json(),
        )
    except client.exceptions.ExecutionAlreadyExists:
        logger.info("execution already exists", extra={"incident_id": incident.incident_id})
        return incident.incident_id
    logger.info(
        "remediation started",
        extra={"incident_id": incident.incident_id, "execution_arn": response["executionArn"]},
    )
    return incident.incident_id


def plan(request: PlanRequest) -> dict[str, Any]:
    result = PlanResult(incident_id=request.incident.incident_id, actions=[], reason="no planner configured")
    logger.info("plan", extra=result.model_dump())
    return result.model_dump(mode="json")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "Records" in event:
        return process_partial_response(
            event=event, record_handler=start_remediation, processor=processor, context=context
        )
    if isinstance(event, dict) and "step" in event:
        return plan(PlanRequest.model_validate(event))
    raise ValueError(
        "remediator accepts an SQS batch ({'Records': [...]}) or a Step Functions task "
        "({'step': 'plan', 'incident': {...}}); got neither"
    )
