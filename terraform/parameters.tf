################################################################################
# SSM: the stack's discovery document
#
# One JSON parameter naming what clients outside Terraform (the CLI, the dashboard) reach:
# they read it instead of Terraform state, which they may not have.
################################################################################

resource "aws_ssm_parameter" "stack" {
  name        = "/${var.name_prefix}/stack"
  description = "Names and ARNs of the Heal-Ops stack's resources, for the CLI and the dashboard."
  type        = "String"
  value = jsonencode({
    tables              = { for key, table in aws_dynamodb_table.this : key => table.name }
    incidents_queue_url = aws_sqs_queue.incidents.url
    incidents_dlq_url   = aws_sqs_queue.incidents_dlq.url
    escalations_topic   = aws_sns_topic.escalations.arn
    state_machine_arn   = aws_sfn_state_machine.remediation.arn
    functions           = { for key, fn in module.lambda_function : key => fn.lambda_function_name }
    buckets             = { for key, bucket in aws_s3_bucket.this : key => bucket.id }
    metrics_namespace   = var.metrics_namespace
    services            = var.services
    service_log_groups  = { for key, group in aws_cloudwatch_log_group.services : key => group.name }
    error_rate_alarms   = { for key, alarm in aws_cloudwatch_metric_alarm.error_rate : key => alarm.alarm_name }
  })
}
