################################################################################
# Telling people: the notifier's sinks (healops/notify, functions/notifier)
#
# The remediator and the detector hand each event (an escalation, an approval waiting, an action taken, a
# fix that did not verify, a resolution) to the notifier function asynchronously; it tells the sinks set
# here, retrying each with backoff, and records every delivery in the notifications table (the dashboard's
# incident page shows them, failures included).
#
# Secrets (the Slack webhook URL, the PagerDuty routing key, the webhook's URL and HMAC secret) become
# SecureStrings under /<name_prefix>/notify/, encrypted with the stack's key and written with value_wo
# (write-only): they are never in the Terraform state. Pass them as TF_VAR_ environment variables (or from a
# secrets manager), not in a tfvars file; `healops up` reads HEALOPS_NOTIFY_* from its environment.
# E-mail is SNS's own: each address is subscribed to the escalations topic (and confirms by e-mail).
################################################################################

variable "notify_slack_webhook_url" {
  description = "Slack incoming webhook URL (https://hooks.slack.com/services/...) told of every event; empty for none. Stored as a SecureString."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = nonsensitive(var.notify_slack_webhook_url == "" || can(regex("^https?://", var.notify_slack_webhook_url)))
    error_message = "notify_slack_webhook_url must be empty or an https:// URL (http:// only for a local receiver)."
  }
}

variable "notify_pagerduty_routing_key" {
  description = "PagerDuty Events API v2 routing key (an integration key of 32 characters): escalations trigger, resolutions resolve (dedup key = incident id); empty for none. Stored as a SecureString."
  type        = string
  default     = ""
  sensitive   = true
}

variable "notify_pagerduty_events_url" {
  description = "PagerDuty Events API v2 endpoint; PagerDuty's own by default (https://events.eu.pagerduty.com/v2/enqueue for an EU account)."
  type        = string
  default     = "https://events.pagerduty.com/v2/enqueue"

  validation {
    condition     = can(regex("^https?://", var.notify_pagerduty_events_url))
    error_message = "notify_pagerduty_events_url must be an https:// URL (http:// only for a local receiver)."
  }
}

variable "notify_webhook_url" {
  description = "Generic webhook told of every event as JSON signed with X-HealOps-Signature (HMAC-SHA256); empty for none. Stored as a SecureString; needs notify_webhook_secret."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = nonsensitive(var.notify_webhook_url == "" || can(regex("^https?://", var.notify_webhook_url)))
    error_message = "notify_webhook_url must be empty or an https:// URL (http:// only for a local receiver)."
  }

  validation {
    condition     = nonsensitive((var.notify_webhook_url == "") == (var.notify_webhook_secret == ""))
    error_message = "notify_webhook_url and notify_webhook_secret go together: set both (the receiver checks the signature) or neither."
  }
}

variable "notify_webhook_secret" {
  description = "HMAC-SHA256 key the webhook's receiver checks X-HealOps-Signature with (at least 16 characters); empty for no webhook. Stored as a SecureString."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = nonsensitive(var.notify_webhook_secret == "" || length(var.notify_webhook_secret) >= 16)
    error_message = "notify_webhook_secret must be empty or at least 16 characters."
  }
}

variable "notify_secrets_version" {
  description = "Bump to rewrite the notifier's secret parameters after changing one (they are write-only, so Terraform cannot see a change)."
  type        = number
  default     = 1
}

variable "notify_emails" {
  description = "E-mail addresses subscribed to the escalations topic: escalations, Heal-Ops' own alarms, and the notifier's other events. Each confirms by e-mail."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.notify_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "notify_emails must be e-mail addresses (name@example.com)."
  }
}

variable "notify_dashboard_url" {
  description = "Base URL of the Heal-Ops dashboard the messages link to (an incident's page is <url>/incidents/<id>); empty for no link."
  type        = string
  default     = ""
}

locals {
  notify_parameters_path = "/${var.name_prefix}/notify"
  notify_parameter_arns = [
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.notify_parameters_path}",
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.notify_parameters_path}/*",
  ]
  # Built from its parts: every function's environment names it, the notifier's own included.
  notifier_function_name = "${var.function_name_prefix}notifier"
  notifier_function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.notifier_function_name}"

  # Parameter names are the ones healops/notify/wiring.py reads.
  notify_secrets = {
    slack_webhook_url     = var.notify_slack_webhook_url
    pagerduty_routing_key = var.notify_pagerduty_routing_key
    webhook_url           = var.notify_webhook_url
    webhook_secret        = var.notify_webhook_secret
  }
  # Which sinks are set is not secret; what they hold is.
  notify_secrets_set = toset([for name, value in local.notify_secrets : name if nonsensitive(value != "")])
}

resource "aws_ssm_parameter" "notify_secret" {
  for_each = local.notify_secrets_set

  name             = "${local.notify_parameters_path}/${each.key}"
  description      = "Heal-Ops notifier ${each.key} (write-only: not in the Terraform state)."
  type             = "SecureString"
  key_id           = aws_kms_key.this.arn
  value_wo         = local.notify_secrets[each.key]
  value_wo_version = var.notify_secrets_version
}

resource "aws_sns_topic_subscription" "notify_email" {
  for_each = toset(var.notify_emails)

  topic_arn = aws_sns_topic.escalations.arn
  protocol  = "email"
  endpoint  = each.key
}
