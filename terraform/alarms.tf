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
  for_each = toset(local.services)

  name              = "${local.service_log_group_prefix}/${each.key}"
  retention_in_days = var.log_retention_days
}
