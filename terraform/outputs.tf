################################################################################
# DynamoDB
################################################################################

output "dynamodb_table_names" {
  description = "Table names by table key (incidents, remediations, llm_actions, agent_decisions, fleet, injections, detector_state, idempotency)."
  value       = { for key, table in aws_dynamodb_table.this : key => table.name }
}

output "dynamodb_table_arns" {
  description = "Table ARNs by table key."
  value       = { for key, table in aws_dynamodb_table.this : key => table.arn }
}

################################################################################
# Messaging
################################################################################

output "sqs_incidents_queue_url" {
  description = "URL of the incidents queue."
  value       = aws_sqs_queue.incidents.url
}

output "sqs_incidents_queue_arn" {
  description = "ARN of the incidents queue."
  value       = aws_sqs_queue.incidents.arn
}

output "sqs_incidents_dlq_url" {
  description = "URL of the incidents dead-letter queue."
  value       = aws_sqs_queue.incidents_dlq.url
}

output "sqs_incidents_dlq_arn" {
  description = "ARN of the incidents dead-letter queue."
  value       = aws_sqs_queue.incidents_dlq.arn
}

output "sns_escalations_topic_arn" {
  description = "ARN of the escalations topic."
  value       = aws_sns_topic.escalations.arn
}

################################################################################
# Step Functions
################################################################################

output "sfn_state_machine_arn" {
  description = "ARN of the remediation state machine."
  value       = aws_sfn_state_machine.remediation.arn
}

output "sfn_state_machine_name" {
  description = "Name of the remediation state machine."
  value       = aws_sfn_state_machine.remediation.name
}

################################################################################
# Lambda
################################################################################

output "lambda_function_names" {
  description = "Function names by function key (detector, remediator, injector, metrics_generator)."
  value       = { for key, fn in module.lambda_function : key => fn.lambda_function_name }
}

output "lambda_function_arns" {
  description = "Function ARNs by function key."
  value       = { for key, fn in module.lambda_function : key => fn.lambda_function_arn }
}

################################################################################
# S3
################################################################################

output "s3_bucket_names" {
  description = "Bucket names by bucket key (log_archive, metric_archive, artifacts)."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.id }
}

################################################################################
# CloudWatch and EventBridge
################################################################################

output "cloudwatch_lambda_log_group_names" {
  description = "Log group of each function, by function key."
  value       = { for key, fn in module.lambda_function : key => fn.cloudwatch_log_group_name }
}

output "cloudwatch_service_log_group_names" {
  description = "Log group of each fleet service, by service name."
  value       = { for key, group in aws_cloudwatch_log_group.services : key => group.name }
}

output "cloudwatch_error_rate_alarm_names" {
  description = "Error-rate alarm of each fleet service, by service name."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.error_rate : key => alarm.alarm_name }
}

output "cloudwatch_lambda_errors_alarm_names" {
  description = "Errors alarm of each function, by function key."
  value       = { for key, fn in module.lambda_function : key => fn.cloudwatch_errors_alarm_name }
}

output "cloudwatch_metrics_namespace" {
  description = "Namespace of the services' metrics and of the Heal-Ops heartbeat."
  value       = var.metrics_namespace
}

output "eventbridge_rule_names" {
  description = "EventBridge rule names by rule key (tick, alarm-state-change, chaos)."
  value       = { for key, rule in aws_cloudwatch_event_rule.this : key => rule.name }
}

################################################################################
# SSM
################################################################################

output "ssm_stack_parameter_name" {
  description = "Name of the SSM parameter holding the stack's discovery document (JSON)."
  value       = aws_ssm_parameter.stack.name
}

################################################################################
# Targets
################################################################################

output "targets_parameter_name" {
  description = "SSM parameter holding the targets (var.targets) as JSON."
  value       = aws_ssm_parameter.targets.name
}

output "demo_fleet_targets" {
  description = "The demo fleet's resources in var.targets' shape (empty lists when demo_fleet is off)."
  value       = local.demo_targets
}
