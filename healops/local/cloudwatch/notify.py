"""What a state change sets off: the history item, the EventBridge event and the alarm's actions.

All of it goes through moto's backends in process, for the alarm's own account and region:
``events_backends[...].put_events`` (so EventBridge rules with a matching pattern deliver the
event to their targets) and ``sns_backends[...].publish`` for SNS topic actions. A failure here
is logged and never undoes the state change or fails the caller.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from healops.local.cloudwatch.alarms import state_change_detail, state_snapshot

logger = logging.getLogger(__name__)

EVENT_SOURCE = "aws.cloudwatch"
EVENT_DETAIL_TYPE = "CloudWatch Alarm State Change"
HISTORY_ATTRIBUTE = "_healops_history"
MAX_HISTORY = 1000


def history_of(alarm: Any) -> list[dict[str, Any]]:
    """The alarm's DescribeAlarmHistory items, oldest first (kept on the moto Alarm object)."""
    history = alarm.__dict__.get(HISTORY_ATTRIBUTE)
    if history is None:
        history = alarm.__dict__[HISTORY_ATTRIBUTE] = []
    return history


def record_history(alarm: Any, item_type: str, summary: str, data: dict[str, Any]) -> None:
    history = history_of(alarm)
    history.append(
        {
            "AlarmName": alarm.name,
            "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
            "Timestamp": datetime.now(UTC).replace(tzinfo=None),
            "HistoryItemType": item_type,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data),
        }
    )
    del history[:-MAX_HISTORY]


def _parsed(reason_data: str | None) -> Any:
    try:
        return json.loads(reason_data) if reason_data else None
    except ValueError:
        return None


def on_state_change(
    account_id: str,
    region: str,
    alarm: Any,
    old: tuple[str, str, str | None, datetime],
) -> None:
    """Record, announce and act on the transition from ``old`` (value, reason, data, time) to the
    alarm's current state."""
    old_value, old_reason, old_data, old_time = old
    new_value = alarm.state_value
    history_data: dict[str, Any] = {
        "version": "1.0",
        "oldState": {"stateValue": old_value, "stateReason": old_reason},
        "newState": {"stateValue": new_value, "stateReason": alarm.state_reason},
    }
    if (parsed := _parsed(alarm.state_reason_data)) is not None:
        history_data["newState"]["stateReasonData"] = parsed
    record_history(alarm, "StateUpdate", f"Alarm updated from {old_value} to {new_value}", history_data)
    previous = state_snapshot(old_value, old_reason, old_data, old_time)
    current = state_snapshot(new_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp)
    try:
        put_state_change_event(account_id, region, alarm, previous, current)
    except Exception:
        logger.exception("alarm %s: could not put the state-change event", alarm.name)
    try:
        run_actions(account_id, region, alarm, old_value)
    except Exception:
        logger.exception("alarm %s: running actions failed", alarm.name)


def put_state_change_event(
    account_id: str, region: str, alarm: Any, previous: dict[str, Any], current: dict[str, Any]
) -> None:
    from moto.events.models import events_backends

    detail = state_change_detail(alarm, previous, current)
    entries = events_backends[account_id][region].put_events(
        [
            {
                "Source": EVENT_SOURCE,
                "DetailType": EVENT_DETAIL_TYPE,
                "Detail": json.dumps(detail),
                "Resources": [alarm.alarm_arn],
                "EventBusName": "default",
            }
        ]
    )
    failed = [entry for entry in entries if "ErrorCode" in entry]
    if failed:
        logger.warning("alarm %s: state-change event rejected: %s", alarm.name, failed)


def _actions_for(alarm: Any, state: str) -> list[str]:
    if state == "ALARM":
        return list(alarm.alarm_actions or [])
    if state == "OK":
        return list(alarm.ok_actions or [])
    return list(alarm.insufficient_data_actions or [])


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def sns_message(account_id: str, region: str, alarm: Any, old_value: str) -> dict[str, Any]:
    """The JSON CloudWatch publishes to an SNS action."""
    statistic = alarm.extended_statistic or alarm.statistic
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": _iso(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _iso(alarm.state_updated_timestamp),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_value,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
            "Statistic": (statistic or "").upper() if not alarm.extended_statistic else statistic,
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm or alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
        },
    }


def run_actions(account_id: str, region: str, alarm: Any, old_value: str) -> None:
    """Publish to the SNS topics among the actions of the new state (when actions are enabled).

    Other action kinds (Auto Scaling, EC2, Lambda, Systems Manager) are logged and skipped.
    """
    if not alarm.actions_enabled:
        return
    for action in _actions_for(alarm, alarm.state_value):
        if not action.startswith("arn:") or action.split(":")[2] != "sns":
            logger.info("alarm %s: action %s is not an SNS topic; skipped", alarm.name, action)
            continue
        from moto.sns.models import sns_backends

        topic_region, topic_account = action.split(":")[3], action.split(":")[4]
        message = json.dumps(sns_message(account_id, region, alarm, old_value))
        subject = f'{alarm.state_value}: "{alarm.name}" in {region}'[:100]
        try:
            sns_backends[topic_account][topic_region].publish(message=message, arn=action, subject=subject)
        except Exception as exc:
            logger.warning("alarm %s: publishing to %s failed: %s", alarm.name, action, exc)
            record_history(
                alarm, "Action", f"Failed to execute action {action}", {"actionState": "Failed", "error": str(exc)}
            )
            continue
        record_history(
            alarm,
            "Action",
            f"Successfully executed action {action}",
            {"actionState": "Succeeded", "notificationResource": action},
        )
