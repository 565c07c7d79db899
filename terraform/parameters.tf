################################################################################
# SSM: the stack's discovery document
#
# One JSON parameter naming what clients outside Terraform (the CLI, the dashboard) reach:
# they read it instead of Terraform state, which they may not have.
################################################################################

resource "aws_ssm_parameter" "stack" {
  # checkov:skip=CKV2_AWS_34:A plain setting, not a secret (keys are SecureStrings); as a String it is readable without a KMS call or grant.
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
    # The fleet's tick (simulated seconds): the dashboard charts a point per tick and counts windows in ticks.
    tick_seconds = local.tick_seconds
    # Patterns, not per-service lists: a 1,000-service fleet's names would pass SSM's 4 KB limit.
    service_count             = length(local.services)
    service_log_group_pattern = "${local.service_log_group_prefix}/{service}"
    error_rate_alarm_pattern  = "${var.name_prefix}-{service}-error-rate"
  })
}
