################################################################################
# CloudWatch: per-service error-rate alarms and service log groups
################################################################################

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  for_each = toset(local.services)

  alarm_name          = "${var.name_prefix}-${each.key}-error-rate"
  alarm_description   = "Error rate of ${each.key} above ${var.error_rate_threshold}% for 3 consecutive minutes."
  namespace           = var.metrics_namespace
  metric_name         = "ErrorRate"
  dimensions          = { Service = each.key }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold
  treat_missing_data  = "notBreaching"
}

# metrics_generator writes each service's log lines here; the detector reads them.
resource "aws_cloudwatch_log_group" "services" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every group at rest with its own keys; a customer key would add a key-policy grant to the logs service and protect against no reader outside this account.
  # checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (14 by default): the loop reads these logs within minutes, and a year of a 1,000-service fleet's logs is a bill the user chooses, not a default.
  for_each = toset(local.services)

  name              = "${local.service_log_group_prefix}/${each.key}"
  retention_in_days = var.log_retention_days
}

################################################################################
# CloudWatch: Heal-Ops' own health, with actions (the escalations topic)
#
# Each function's Errors alarm lives in modules/lambda_function (alarm_actions = this topic too).
################################################################################

locals {
  own_alarm_actions = [aws_sns_topic.escalations.arn]
}

# An incident that reached the dead-letter queue was never remediated: someone must look.
resource "aws_cloudwatch_metric_alarm" "incidents_dlq_depth" {
  alarm_name          = "${var.name_prefix}-incidents-dlq-depth"
  alarm_description   = "Incident messages in the dead-letter queue ${aws_sqs_queue.incidents_dlq.name}: incidents the remediator failed on ${var.incidents_max_receive_count} times."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.incidents_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.own_alarm_actions
  ok_actions          = local.own_alarm_actions
}

# Escalated and EscalationUndelivered are Fail states, so this counts escalations too (each also reached the
# topic as a message of its own); it is the alarm that still fires when the escalation itself could not be sent.
resource "aws_cloudwatch_metric_alarm" "remediation_executions_failed" {
  alarm_name          = "${var.name_prefix}-remediation-executions-failed"
  alarm_description   = "Failed executions of the remediation state machine ${local.state_machine_name} (escalations included)."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = local.state_machine_arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.own_alarm_actions
}
