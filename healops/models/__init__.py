"""The models more than one package shares: the messages the Lambda handlers exchange, and the fleet's records.

- :mod:`.incident`: the incident message on the SQS queue, and the plan step of the
  remediation state machine (its input and its result).
- :mod:`.events`: the EventBridge events the detector receives (schedule ticks, alarm state
  changes).
- :mod:`.injector`: the injector's request.
- :mod:`.fleet`: a service's spec and its fleet-table state (the fleet model and the store both use them, so
  neither imports the other for them).
- :mod:`.remediation`: the remediation's words (guard decisions, attempt outcomes, routes).
"""

from __future__ import annotations

from healops.models.errors import describe_validation_error
from healops.models.events import AlarmState, AlarmStateChangeDetail, AlarmStateChangeEvent, ScheduledEvent
from healops.models.incident import INCIDENT_ID_PATTERN, IncidentMessage, PlanRequest, PlanResult
from healops.models.injector import INJECTOR_ACTIONS, InjectorAction, InjectorRequest

__all__ = [
    "INCIDENT_ID_PATTERN",
    "INJECTOR_ACTIONS",
    "AlarmState",
    "AlarmStateChangeDetail",
    "AlarmStateChangeEvent",
    "IncidentMessage",
    "InjectorAction",
    "InjectorRequest",
    "PlanRequest",
    "PlanResult",
    "ScheduledEvent",
    "describe_validation_error",
]
