"""EventBridge events the detector receives, on Powertools' EventBridge envelope model."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

SCHEDULED_EVENT = "Scheduled Event"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


class ScheduledEvent(EventBridgeModel):
    """A schedule rule firing (``rate(...)`` / ``cron(...)``)."""

    source: Literal["aws.events", "aws.scheduler"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")


class AlarmState(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: str | None = None


class AlarmStateChangeDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    alarm_name: str = Field(alias="alarmName")
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    configuration: dict[str, Any] = Field(default_factory=dict)


class AlarmStateChangeEvent(EventBridgeModel):
    """CloudWatch's "CloudWatch Alarm State Change" event as EventBridge delivers it."""

    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    detail: AlarmStateChangeDetail
