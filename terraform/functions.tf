################################################################################
# Lambda functions: one module instance per function, zips from scripts/package.py
################################################################################

locals {
  lambda_timeouts = var.lambda_timeouts

  functions = {
    detector          = "Detects and predicts incidents from metrics, logs and alarm state changes."
    remediator        = "Starts one remediation execution per incident; guards, acts, verifies and escalates (never calls a model)."
    planner           = "Plans an incident's remediation with the LLM (the Plan state); reads, and writes only its audit."
    injector          = "Injects and clears faults in the simulated fleet (manual and chaos)."
    metrics_generator = "Turns the fleet's state into CloudWatch metrics and service logs each tick."
    notifier          = "Tells the sinks chosen in Terraform (Slack, PagerDuty, a signed webhook, e-mail) about incidents."
  }

  # Every function sees the same names (healops/config.py reads them); IAM decides what it may touch.
  function_environment = merge(
    { for key, table in aws_dynamodb_table.this : "HEALOPS_${upper(key)}_TABLE" => table.name },
    {
      HEALOPS_INCIDENTS_QUEUE_URL             = aws_sqs_queue.incidents.url
      HEALOPS_ESCALATIONS_TOPIC_ARN           = aws_sns_topic.escalations.arn
      HEALOPS_STATE_MACHINE_ARN               = local.state_machine_arn
      HEALOPS_ARTIFACTS_BUCKET                = aws_s3_bucket.this["artifacts"].id
      HEALOPS_LOG_ARCHIVE_BUCKET              = aws_s3_bucket.this["log_archive"].id
      HEALOPS_METRIC_ARCHIVE_BUCKET           = aws_s3_bucket.this["metric_archive"].id
      HEALOPS_METRICS_NAMESPACE               = var.metrics_namespace
      HEALOPS_SERVICE_LOG_GROUP_PREFIX        = local.service_log_group_prefix
      HEALOPS_TICK_SECONDS                    = tostring(local.tick_seconds)
      HEALOPS_FLEET_TIME_SCALE                = tostring(var.fleet_time_scale)
      HEALOPS_FLEET_SEED                      = tostring(var.fleet_seed)
      HEALOPS_FLEET_SIZE                      = tostring(var.fleet_size)
      HEALOPS_LLM_PARAMETERS_PATH             = local.llm_parameters_path
      HEALOPS_REMEDIATION_POLICY_PARAMETER    = local.remediation_policy_parameter
      HEALOPS_TARGETS_PARAMETER               = local.targets_parameter
      HEALOPS_REMEDIATION_EXECUTION_TIMEOUT_S = tostring(var.remediation_execution_timeout_s)
      HEALOPS_DETECTOR_LOG_READS_PER_RUN      = tostring(var.detector_log_reads_per_run)
      HEALOPS_NOTIFIER_FUNCTION               = local.notifier_function_name
      HEALOPS_NOTIFY_PARAMETERS_PATH          = local.notify_parameters_path
      HEALOPS_PAGERDUTY_EVENTS_URL            = var.notify_pagerduty_events_url
      HEALOPS_DETECTOR_READ_EVERY_TICKS       = tostring(var.detector_read_every_ticks)
      POWERTOOLS_LOG_LEVEL                    = var.log_level
      POWERTOOLS_METRICS_NAMESPACE            = var.metrics_namespace
    },
    # Unset rather than empty: e-mail only when someone subscribed, a link only to a dashboard that was named.
    length(var.notify_emails) > 0 ? { HEALOPS_NOTIFY_EMAIL_TOPIC_ARN = aws_sns_topic.escalations.arn } : {},
    var.notify_dashboard_url != "" ? { HEALOPS_DASHBOARD_URL = var.notify_dashboard_url } : {},
  )
}

module "lambda_function" {
  source   = "./modules/lambda_function"
  for_each = local.functions

  name             = "${var.function_name_prefix}${each.key}"
  resource_name    = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  description      = each.value
  handler          = "app.handler"
  runtime          = var.lambda_runtime
  filename         = "${var.build_dir}/${each.key}.zip"
  source_code_hash = filebase64sha256("${var.build_dir}/${each.key}.zip")
  timeout          = local.lambda_timeouts[each.key]
  memory_size      = var.lambda_memory_size
  environment      = merge(local.function_environment, { POWERTOOLS_SERVICE_NAME = each.key })

  policy_statements  = local.function_policy_statements[each.key]
  log_retention_days = var.log_retention_days
  tracing_mode       = var.lambda_tracing_mode
  alarm_actions      = local.own_alarm_actions
}

# incidents → remediator; failed records are reported one by one (Powertools BatchProcessor).
resource "aws_lambda_event_source_mapping" "incidents" {
  event_source_arn        = aws_sqs_queue.incidents.arn
  function_name           = module.lambda_function["remediator"].lambda_function_arn
  batch_size              = var.remediator_batch_size
  function_response_types = ["ReportBatchItemFailures"]

  # AWS checks at creation that the role may already receive from the queue.
  depends_on = [module.lambda_function]
}
