################################################################################
# General
################################################################################

variable "name_prefix" {
  description = "Prefix of every resource name (tables, queues, functions, alarms, log groups, buckets)."
  type        = string
  default     = "healops"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name_prefix))
    error_message = "name_prefix must be 2 to 24 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "function_name_prefix" {
  description = "Prefix of the six function names (empty by default, so the functions are detector, remediator, planner, injector, metrics_generator and notifier, as the README's commands use them)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{0,24}$", var.function_name_prefix))
    error_message = "function_name_prefix must be at most 24 characters: letters, digits, '-' and '_'."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "tags" {
  description = "Tags added to every resource, on top of Project and Stack."
  type        = map(string)
  default     = {}
}

################################################################################
# Lambda functions
################################################################################

variable "build_dir" {
  description = "Folder holding the function zips built by scripts/package.py (<function>.zip), relative to the Terraform working directory or absolute."
  type        = string
  default     = "../build"
}

variable "lambda_runtime" {
  description = "Python runtime of every function. Allowed: python3.11, python3.12."
  type        = string
  default     = "python3.11"

  validation {
    condition     = contains(["python3.11", "python3.12"], var.lambda_runtime)
    error_message = "lambda_runtime must be one of: python3.11, python3.12."
  }
}

variable "lambda_memory_size" {
  description = "Memory (MB) of every function."
  type        = number
  default     = 256
}

variable "lambda_timeouts" {
  description = "Timeout in seconds per function: detector, remediator, planner (it stops waiting for a model before its own timeout), injector, metrics_generator, notifier (its sinks' retries: 3 tries of at most 5 s each, per sink)."
  type = object({
    detector          = optional(number, 60)
    remediator        = optional(number, 60)
    planner           = optional(number, 60)
    injector          = optional(number, 30)
    metrics_generator = optional(number, 60)
    notifier          = optional(number, 90)
  })
  default = {}
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of every function and of the state machine. Allowed: Active (traced), PassThrough (functions traced only when the caller traces; the state machine untraced)."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode must be one of: Active, PassThrough."
  }
}

variable "log_level" {
  description = "Log level of the functions' Powertools Logger. Allowed: DEBUG, INFO, WARNING, ERROR."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of: DEBUG, INFO, WARNING, ERROR."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group, in days (one of the values CloudWatch Logs accepts)."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

################################################################################
# Messaging
################################################################################

variable "incidents_visibility_timeout_s" {
  description = "Visibility timeout of the incidents queue in seconds; null means 6 x the remediator's timeout (AWS's advice for event source mappings). Tests set it low so redrive takes seconds."
  type        = number
  default     = null

  validation {
    condition     = var.incidents_visibility_timeout_s == null ? true : var.incidents_visibility_timeout_s >= 1 && var.incidents_visibility_timeout_s <= 43200
    error_message = "incidents_visibility_timeout_s must be between 1 and 43200 seconds, or null."
  }
}

variable "incidents_max_receive_count" {
  description = "Receives of an incident message before it moves to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.incidents_max_receive_count >= 1 && var.incidents_max_receive_count <= 1000
    error_message = "incidents_max_receive_count must be between 1 and 1000."
  }
}

variable "remediator_batch_size" {
  description = "Incident messages handed to the remediator per invocation."
  type        = number
  default     = 5

  validation {
    condition     = var.remediator_batch_size >= 1 && var.remediator_batch_size <= 10
    error_message = "remediator_batch_size must be between 1 and 10."
  }
}

################################################################################
# Schedules
################################################################################

variable "tick_schedule" {
  description = "Schedule expression of the tick that runs metrics_generator and detector, e.g. rate(1 minute)."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.tick_schedule))
    error_message = "tick_schedule must be a rate(...) or cron(...) expression."
  }
}

variable "chaos_enabled" {
  description = "Whether the chaos schedule invokes the injector; the rule exists but is DISABLED otherwise."
  type        = bool
  default     = false
}

variable "chaos_schedule" {
  description = "Schedule expression of the chaos rule, e.g. rate(10 minutes)."
  type        = string
  default     = "rate(10 minutes)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.chaos_schedule))
    error_message = "chaos_schedule must be a rate(...) or cron(...) expression."
  }
}

################################################################################
# Services and alarms
################################################################################

variable "services" {
  description = "Services that get an error-rate alarm and a log group; null (the default) means every service of the fleet (fleet.tf)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.services == null ? true : alltrue([for s in var.services : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", s))])
    error_message = "Each service name must be lower-case letters, digits and '-' (at most 63 characters)."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the services' metrics and of Heal-Ops' own heartbeat."
  type        = string
  default     = "HealOps/Services"
}

variable "error_rate_threshold" {
  description = "Error rate (percent) above which a service's alarm fires, for 3 of 3 one-minute periods."
  type        = number
  default     = 5
}

################################################################################
# Storage
################################################################################

variable "archive_expiration_days" {
  description = "Days after which objects in the log and metric archive buckets expire."
  type        = number
  default     = 30
}

variable "s3_force_destroy" {
  description = "Whether destroying the stack deletes buckets that still hold objects (true for throw-away local stacks)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Days between `terraform destroy` and the deletion of the stack's KMS key (7 to 30); until then the key can be restored."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "artifacts_noncurrent_expiration_days" {
  description = "Days after which an overwritten or deleted version of an incident artifact expires (the current version is kept)."
  type        = number
  default     = 365
}

variable "dynamodb_point_in_time_recovery" {
  description = "Whether the DynamoDB tables keep point-in-time recovery backups."
  type        = bool
  default     = true
}

################################################################################
# The simulated fleet
################################################################################

variable "fleet_size" {
  description = "Number of services in the simulated fleet: the definition's named services first, then copies of their graph (fleet.tf)."
  type        = number
  default     = 8

  validation {
    condition     = var.fleet_size >= 1 && var.fleet_size <= 5000 && floor(var.fleet_size) == var.fleet_size
    error_message = "fleet_size must be a whole number between 1 and 5000."
  }
}

variable "fleet_definition_file" {
  description = "Path of the fleet definition (JSON with a version field and the named services), relative to the Terraform working directory or absolute."
  type        = string
  default     = "../healops/fleet/fleet.json"
}

variable "fleet_seed" {
  description = "Seed of the fleet's telemetry noise, benign spikes and deploys, and of the chaos schedule's choices."
  type        = number
  default     = 1
}

variable "fleet_time_scale" {
  description = "How many times faster than the wall clock the fleet's ticks run: set it to the embedded cloud's --time-scale so each scheduled tick is a new tick."
  type        = number
  default     = 1

  validation {
    condition     = var.fleet_time_scale > 0
    error_message = "fleet_time_scale must be a positive number."
  }
}

variable "chaos_rate" {
  description = "Chance (0 to 1) that one firing of the chaos schedule injects a fault."
  type        = number
  default     = 0.5

  validation {
    condition     = var.chaos_rate >= 0 && var.chaos_rate <= 1
    error_message = "chaos_rate must be between 0 and 1."
  }
}

################################################################################
# Remediation (terraform/orchestration.tf; healops/remediation/policy.py)
################################################################################

variable "remediation_policy" {
  description = "Overrides of the default guard limits (remediation_policy_defaults_file) written to SSM /<name_prefix>/remediation/policy: allowed_actions (service or \"*\" -> catalog actions), max_concurrent, cooldown_s and breaker_window_s (simulated seconds), breaker_failures, approval_blast_radius (NONE, LOW, MEDIUM, HIGH or CRITICAL), dry_run, max_attempts per incident, max_reopens (an incident reopened more often after fixes that did not hold goes to humans without another plan), approve_other_services (an action on another service than the incident's waits for a human), scale_in_floor (a scale-in leaving fewer replicas waits for a human), approval_actions (service or \"*\" -> actions that always wait for a human). An attribute left out keeps the file's value."
  type = object({
    allowed_actions        = optional(map(list(string)))
    max_concurrent         = optional(number)
    cooldown_s             = optional(number)
    breaker_failures       = optional(number)
    breaker_window_s       = optional(number)
    approval_blast_radius  = optional(string)
    dry_run                = optional(bool)
    max_attempts           = optional(number)
    max_reopens            = optional(number)
    approve_other_services = optional(bool)
    scale_in_floor         = optional(number)
    approval_actions       = optional(map(list(string)))
  })
  default = {}

  validation {
    condition     = var.remediation_policy.approval_blast_radius == null || contains(["NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"], coalesce(var.remediation_policy.approval_blast_radius, "HIGH"))
    error_message = "remediation_policy.approval_blast_radius must be one of NONE, LOW, MEDIUM, HIGH, CRITICAL."
  }
}

variable "remediation_policy_defaults_file" {
  description = "Path of the default remediation policy (JSON; the remediator's Python reads the same file for its defaults, and the benchmarks run it), relative to the Terraform working directory or absolute."
  type        = string
  default     = "../healops/remediation/default_policy.json"
}

variable "remediation_step_timeout_s" {
  description = "Timeout in seconds of each remediation Task state (real seconds: Task timeouts are not time-scaled)."
  type        = number
  default     = 60
}

variable "remediation_approval_timeout_s" {
  description = "How long (real seconds) an action waits for a human's approval before the incident escalates."
  type        = number
  default     = 3600
}

variable "remediation_execution_timeout_s" {
  description = "Upper bound (real seconds) on one remediation execution; past it the execution times out."
  type        = number
  default     = 86400
}

variable "detector_log_reads_per_run" {
  description = "Service log groups the detector reads per run (FilterLogEvents allows about 5 calls a second per account); the rest are read in later runs, from where each left off."
  type        = number
  default     = 100

  validation {
    condition     = var.detector_log_reads_per_run >= 1 && floor(var.detector_log_reads_per_run) == var.detector_log_reads_per_run
    error_message = "detector_log_reads_per_run must be a whole number of at least 1."
  }
}

variable "detector_read_every_ticks" {
  description = "The detector reads the fleet's metrics (GetMetricData, priced per metric per call) every this many ticks, stepping every one-minute point since its last read; the error-rate alarms wake it at once in between. 1 (the default) reads every tick; 10 brings the bill to $0.45 a service-month at a measured cost in detection time (docs/cost.md)."
  type        = number
  default     = 1

  validation {
    condition     = var.detector_read_every_ticks >= 1 && var.detector_read_every_ticks <= 15 && floor(var.detector_read_every_ticks) == var.detector_read_every_ticks
    error_message = "detector_read_every_ticks must be a whole number from 1 to 15 (a read catches up at most 30 ticks: two periods)."
  }
}

################################################################################
# Targets: real ECS services and Lambda functions (targets.tf, demo_fleet.tf)
################################################################################

variable "targets" {
  description = "Real workloads to watch and heal, written to SSM /<name_prefix>/targets. ecs_services: name (how incidents and the policy call it), cluster, service, target_group_arn (optional: the ALB target group in front of it), depends_on (names of other targets or fleet services it calls). lambda_functions: name, function_name, alias (the one serving traffic), depends_on. Names are unique across both lists."
  type = object({
    ecs_services = optional(list(object({
      name             = string
      cluster          = string
      service          = string
      target_group_arn = optional(string)
      depends_on       = optional(list(string), [])
    })), [])
    lambda_functions = optional(list(object({
      name          = string
      function_name = string
      alias         = string
      depends_on    = optional(list(string), [])
    })), [])
  })
  default = {}

  validation {
    condition     = alltrue([for t in concat(var.targets.ecs_services, var.targets.lambda_functions) : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", t.name))])
    error_message = "Each target's name must be lower-case letters, digits and '-' (at most 63 characters), like a fleet service's."
  }
  validation {
    condition     = length(distinct([for t in concat(var.targets.ecs_services, var.targets.lambda_functions) : t.name])) == length(concat(var.targets.ecs_services, var.targets.lambda_functions))
    error_message = "Target names must be unique across ecs_services and lambda_functions."
  }
  validation {
    condition     = alltrue([for t in var.targets.ecs_services : can(regex("^[A-Za-z0-9_-]{1,255}$", t.cluster)) && can(regex("^[A-Za-z0-9_-]{1,255}$", t.service))])
    error_message = "Each ECS target's cluster and service must be names (1 to 255 letters, digits, '-' and '_'), not ARNs."
  }
  validation {
    condition     = alltrue([for t in var.targets.ecs_services : t.target_group_arn == null ? true : can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$", t.target_group_arn))])
    error_message = "target_group_arn must be an ALB target group's ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>), or left out."
  }
  validation {
    condition     = alltrue([for t in var.targets.lambda_functions : can(regex("^[A-Za-z0-9_-]{1,64}$", t.function_name)) && can(regex("^[A-Za-z0-9_-]{1,128}$", t.alias)) && !can(regex("^[0-9]+$", t.alias)) && t.alias != "$LATEST"])
    error_message = "Each Lambda target needs a function_name (1 to 64 letters, digits, '-' and '_', not an ARN) and an alias's name (not a version number, not $LATEST: the alias is what a rollback moves)."
  }
  validation {
    condition     = alltrue([for t in concat(var.targets.ecs_services, var.targets.lambda_functions) : !contains(t.depends_on, t.name)])
    error_message = "A target cannot depend on itself."
  }
}

variable "demo_fleet" {
  description = "Whether Terraform creates the demo fleet as real resources: an ECS cluster with six services (edge, checkout, payments, ledger-db, inventory, search) and two Lambda functions (auth, notifications) with a published version and a live alias, all tagged healops:managed = true (demo_fleet.tf). `healops up` turns it on for the embedded cloud; off by default, so an existing account gets only the targets it lists."
  type        = bool
  default     = false
}
