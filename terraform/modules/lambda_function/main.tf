locals {
  log_group_name = "/aws/lambda/${var.name}"
  resource_name  = coalesce(var.resource_name, var.name)
}

################################################################################
# Log group (created before the function, so Lambda never creates it without retention)
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every group at rest with its own keys; a customer key would add a key-policy grant to the logs service and protect against no reader outside this account.
  # checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (14 by default): the loop reads these logs within minutes, and a year of a 1,000-service fleet's logs is a bill the user chooses, not a default.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# Role and policies
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.resource_name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "logs" {
  name   = "${local.resource_name}-logs"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.logs.json
}

data "aws_iam_policy_document" "tracing" {
  statement {
    sid     = "XRayWrite"
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    # X-Ray's write actions have no resource-level permissions: "*" is the only resource they accept.
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "tracing" {
  count = var.tracing_mode == "PassThrough" ? 0 : 1

  name   = "${local.resource_name}-tracing"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.tracing.json
}

data "aws_iam_policy_document" "access" {
  count = length(var.policy_statements) > 0 ? 1 : 0

  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "access" {
  count = length(var.policy_statements) > 0 ? 1 : 0

  name   = "${local.resource_name}-access"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.access[0].json
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116:Failures are not lost without a function DLQ: incidents redrive to the incidents queue's DLQ, scheduled ticks re-run next tick, and every function's Errors alarm notifies.
  # checkov:skip=CKV_AWS_117:The functions reach only AWS APIs (no private resource); a VPC would need NAT or eight interface endpoints for nothing to protect.
  # checkov:skip=CKV_AWS_115:Reserved concurrency takes from the account's pool (10 on a new account, too few to reserve from); the remediator's concurrency is bounded by the queue's batch and the guard's max_concurrent.
  # checkov:skip=CKV_AWS_272:Code signing needs a Signer profile and a signed-artifact pipeline the project does not have; zips are reproducible (scripts/package.py) and hashed by Terraform.
  # checkov:skip=CKV_AWS_173:The environment holds resource names only, no secrets (keys are SecureStrings in SSM); Lambda encrypts it at rest with its service key.
  function_name    = var.name
  description      = var.description
  role             = aws_iam_role.this.arn
  handler          = var.handler
  runtime          = var.runtime
  filename         = var.filename
  source_code_hash = var.source_code_hash
  timeout          = var.timeout
  memory_size      = var.memory_size
  tags             = var.tags

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = var.tracing_mode
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.logs, aws_iam_role_policy.tracing]
}

################################################################################
# Errors alarm
################################################################################

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${local.resource_name}-errors"
  alarm_description   = "Errors of the ${var.name} function."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.errors_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}
