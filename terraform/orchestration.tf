################################################################################
# Step Functions: the remediation state machine (one execution per incident)
#
# Init → Plan → Guard ─┬─ act ─────────────► Act → Settle (Wait) → Verify ─┬─ resolved → Resolved
#                      ├─ await_approval ──► AwaitApproval (task token) ───┤  wait → Settle
#                      ├─ next ──► Backoff (Wait) → Guard                  └─ next → Backoff → Guard
#                      └─ escalate ──► Escalate → Notify (SNS) → Escalated
# Every Lambda step returns the run ($.run) with "route" set; the Choice states only follow it
# (healops/remediation/engine.py). Every Task has a timeout and a Catch that leads to Escalate; the
# escalation's own tasks fall back to publishing the raw state (NotifyRaw), and if even that cannot
# be published the execution fails as EscalationUndelivered (its own error, never a silent end).
################################################################################

locals {
  remediator_arn = module.lambda_function["remediator"].lambda_function_arn
  # The Plan state's function: the only one that calls a model (its role reads, and writes only its audit).
  planner_arn = module.lambda_function["planner"].lambda_function_arn

  lambda_retry = [
    {
      ErrorEquals     = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"]
      IntervalSeconds = 1
      MaxAttempts     = 3
      BackoffRate     = 2
    },
    {
      ErrorEquals     = ["States.TaskFailed", "States.Timeout"]
      IntervalSeconds = 2
      MaxAttempts     = 2
      BackoffRate     = 2
    },
  ]
  to_escalate = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "Escalate" }]

  # A Lambda step: the whole state in, the run (with its route) back at $.run. Plan is the planner's, the rest
  # the remediator's; same timeout, retries and catch.
  remediation_steps = {
    Plan   = "Route"
    Guard  = "Route"
    Act    = "Route"
    Verify = "Route"
    Denied = "ClearError"
  }
  remediation_step_states = {
    for name, next in local.remediation_steps : name => {
      Type           = "Task"
      Resource       = name == "Plan" ? local.planner_arn : local.remediator_arn
      Parameters     = { step = lower(name), "state.$" = "$" }
      ResultPath     = "$.run"
      TimeoutSeconds = var.remediation_step_timeout_s
      Retry          = local.lambda_retry
      Catch          = local.to_escalate
      Next           = next
    }
  }

  remediation_definition = {
    Comment        = "Heal-Ops remediation of one incident; the execution input is the IncidentMessage."
    StartAt        = "Init"
    TimeoutSeconds = var.remediation_execution_timeout_s
    States = merge(local.remediation_step_states, {
      Init = {
        Type       = "Pass"
        Parameters = { "incident.$" = "$" }
        Next       = "Plan"
      }
      # A denial was caught into $.error; it is recorded, so drop it before going on.
      ClearError = {
        Type       = "Pass"
        Parameters = { "incident.$" = "$.incident", "run.$" = "$.run" }
        Next       = "Route"
      }
      Route = {
        Type = "Choice"
        Choices = [
          { Variable = "$.run.route", StringEquals = "guard", Next = "Guard" },
          { Variable = "$.run.route", StringEquals = "act", Next = "Act" },
          { Variable = "$.run.route", StringEquals = "await_approval", Next = "AwaitApproval" },
          { Variable = "$.run.route", StringEquals = "wait", Next = "Settle" },
          { Variable = "$.run.route", StringEquals = "next", Next = "Backoff" },
          { Variable = "$.run.route", StringEquals = "resolved", Next = "Resolved" },
        ]
        Default = "Escalate"
      }
      # Wait states count simulated seconds: the embedded cloud divides them by its time scale.
      Settle = {
        Type        = "Wait"
        SecondsPath = "$.run.wait_s"
        Next        = "Verify"
      }
      Backoff = {
        Type        = "Wait"
        SecondsPath = "$.run.wait_s"
        Next        = "Guard"
      }
      AwaitApproval = {
        Type           = "Task"
        Resource       = "arn:${local.partition}:states:::lambda:invoke.waitForTaskToken"
        TimeoutSeconds = var.remediation_approval_timeout_s
        Parameters = {
          FunctionName = local.remediator_arn
          Payload      = { step = "await_approval", "state.$" = "$", "token.$" = "$$.Task.Token" }
        }
        ResultPath = "$.approval"
        Catch = [
          { ErrorEquals = ["Remediation.Denied"], ResultPath = "$.error", Next = "Denied" },
          { ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "Escalate" },
        ]
        Next = "Act"
      }
      Escalate = {
        Type           = "Task"
        Resource       = local.remediator_arn
        Parameters     = { step = "escalate", "state.$" = "$" }
        ResultPath     = "$.escalation"
        TimeoutSeconds = var.remediation_step_timeout_s
        Retry          = local.lambda_retry
        # Never silence: if the summary cannot be written, the raw state still goes out.
        Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.escalation_error", Next = "NotifyRaw" }]
        Next  = "Notify"
      }
      Notify = {
        Type           = "Task"
        Resource       = "arn:${local.partition}:states:::sns:publish"
        TimeoutSeconds = var.remediation_step_timeout_s
        Parameters = {
          TopicArn    = aws_sns_topic.escalations.arn
          "Subject.$" = "$.escalation.subject"
          "Message.$" = "$.escalation.message"
        }
        ResultPath = "$.notified"
        Retry      = [{ ErrorEquals = ["States.ALL"], IntervalSeconds = 1, MaxAttempts = 3, BackoffRate = 2 }]
        Catch      = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.notify_error", Next = "NotifyRaw" }]
        Next       = "Escalated"
      }
      NotifyRaw = {
        Type           = "Task"
        Resource       = "arn:${local.partition}:states:::sns:publish"
        TimeoutSeconds = var.remediation_step_timeout_s
        Parameters = {
          TopicArn    = aws_sns_topic.escalations.arn
          Subject     = "Heal-Ops escalation (raw state)"
          "Message.$" = "States.JsonToString($)"
        }
        ResultPath = "$.notified"
        Retry      = [{ ErrorEquals = ["States.ALL"], IntervalSeconds = 1, MaxAttempts = 5, BackoffRate = 2 }]
        Catch      = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.notify_raw_error", Next = "EscalationUndelivered" }]
        Next       = "Escalated"
      }
      # SNS refused even the raw state: fail loudly under an error of its own (the execution's history
      # keeps the state; the ExecutionsFailed metric counts it).
      EscalationUndelivered = {
        Type  = "Fail"
        Error = "Remediation.EscalationUndelivered"
        Cause = "Heal-Ops could not remediate the incident and could not publish the escalation to SNS."
      }
      Escalated = {
        Type  = "Fail"
        Error = "Remediation.Escalated"
        Cause = "Heal-Ops could not remediate the incident; it was escalated to humans."
      }
      Resolved = {
        Type = "Succeed"
      }
    })
  }
}

resource "aws_sfn_state_machine" "remediation" {
  # checkov:skip=CKV_AWS_285:Every step's decision, guard verdict and result is written to the remediations and agent_decisions tables, and Step Functions keeps each execution's history 90 days; a log group of the same would be a second bill.
  name       = local.state_machine_name
  role_arn   = aws_iam_role.sfn.arn
  definition = jsonencode(local.remediation_definition)

  tracing_configuration {
    enabled = var.lambda_tracing_mode == "Active"
  }

  depends_on = [aws_iam_role_policy.sfn]

  lifecycle {
    # The plan step stops waiting for an LLM before the planner's own timeout (its remaining time, less a
    # margin); a Task timeout shorter than the function's would cut it off first, and the retry plan again.
    precondition {
      condition     = local.lambda_timeouts.remediator <= var.remediation_step_timeout_s && local.lambda_timeouts.planner <= var.remediation_step_timeout_s
      error_message = "lambda_timeouts.remediator and lambda_timeouts.planner must not exceed remediation_step_timeout_s: a remediation step would time out before the function's own deadline."
    }
  }
}

# The guard's limits, read on every guard step: an operator may change them at run time. The defaults are one
# file the remediator's Python reads too (healops/remediation/default_policy.json); var.remediation_policy
# overrides attribute by attribute.
locals {
  remediation_policy = merge(
    jsondecode(file(var.remediation_policy_defaults_file)),
    { for name, value in var.remediation_policy : name => value if value != null },
  )
}

resource "aws_ssm_parameter" "remediation_policy" {
  # checkov:skip=CKV2_AWS_34:A plain setting, not a secret (keys are SecureStrings); as a String it is readable without a KMS call or grant.
  name        = local.remediation_policy_parameter
  description = "Remediation limits: allow-list, concurrency, cooldown, breaker, approval level, dry run, attempts, reopens."
  type        = "String"
  value       = jsonencode(local.remediation_policy)
}
