################################################################################
# SQS: incidents queue and its dead-letter queue
################################################################################

# The queues do not reference each other (the redrive policy is a separate resource), so the
# provider creates them in parallel: each creation waits ~25 s for its attributes to settle.
resource "aws_sqs_queue" "incidents_dlq" {
  name                      = "${var.name_prefix}-incidents-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "incidents" {
  name = "${var.name_prefix}-incidents"
  # AWS's advice for a queue feeding Lambda: at least 6x the function timeout.
  visibility_timeout_seconds = coalesce(var.incidents_visibility_timeout_s, 6 * local.lambda_timeouts.remediator)
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true

  # Owned by aws_sqs_queue_redrive_policy below; without this the queue reads it back and
  # plans a (whitespace-only) change to it on every run.
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_sqs_queue_redrive_policy" "incidents" {
  queue_url = aws_sqs_queue.incidents.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.incidents_dlq.arn
    maxReceiveCount     = var.incidents_max_receive_count
  })
}

################################################################################
# SNS: escalations to humans
################################################################################

# Escalations from the state machine, and the alarms on Heal-Ops' own health (alarms.tf).
resource "aws_sns_topic" "escalations" {
  name              = "${var.name_prefix}-escalations"
  kms_master_key_id = aws_kms_key.this.arn
}
