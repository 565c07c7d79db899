################################################################################
# Function
################################################################################

variable "name" {
  description = "Function name; also names its log group."
  type        = string
}

variable "resource_name" {
  description = "Name of the function's role, its policies and its Errors alarm; null means the function name."
  type        = string
  default     = null
}

variable "description" {
  description = "What the function does."
  type        = string
  default     = ""
}

variable "handler" {
  description = "Entry point, module.function."
  type        = string
  default     = "app.handler"
}

variable "runtime" {
  description = "Lambda runtime identifier, e.g. python3.11."
  type        = string
  default     = "python3.11"
}

variable "filename" {
  description = "Path of the deployment zip."
  type        = string
}

variable "source_code_hash" {
  description = "base64-encoded SHA-256 of the zip (filebase64sha256); a change redeploys the code."
  type        = string
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 60
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256
}

variable "environment" {
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}
}

################################################################################
# Permissions
################################################################################

variable "policy_statements" {
  description = "IAM statements of the function's own access policy (its log group is granted separately)."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

################################################################################
# Observability
################################################################################

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
  default     = 14
}

variable "tracing_mode" {
  description = "X-Ray tracing of the function. Allowed: Active (sample and trace every invocation), PassThrough (only when the caller traces)."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be one of: Active, PassThrough."
  }
}

variable "errors_alarm_threshold" {
  description = "The Errors alarm fires when the function's errors in one minute exceed this number."
  type        = number
  default     = 0
}

variable "alarm_actions" {
  description = "ARNs notified when the Errors alarm fires (for example an SNS topic); empty for none."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of every resource of the module."
  type        = map(string)
  default     = {}
}
