output "lambda_function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "lambda_role_name" {
  description = "Name of the function's execution role."
  value       = aws_iam_role.this.name
}

output "cloudwatch_log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "cloudwatch_errors_alarm_name" {
  description = "Name of the function's Errors alarm."
  value       = aws_cloudwatch_metric_alarm.errors.alarm_name
}
