################################################################################
# Step Functions: the remediation state machine (one execution per incident)
#
# Now: Plan → (empty plan) Escalate → Escalated. A plan with actions stops in NoExecutor, since
# no executor is deployed yet; later issues grow this into plan → guard → act → wait → verify.
################################################################################

locals {
  remediator_arn = module.lambda_function["remediator"].lambda_function_arn

  remediation_definition = {
    Comment = "Heal-Ops remediation of one incident; the execution input is the IncidentMessage."
    StartAt = "Plan"
    States = {
      Plan = {
        Type       = "Task"
        Resource   = local.remediator_arn
        Parameters = { step = "plan", "incident.$" = "$" }
        ResultPath = "$.plan"
        Retry = [
          {
            ErrorEquals     = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"]
            IntervalSeconds = 2
            MaxAttempts     = 3
            BackoffRate     = 2
          },
          {
            ErrorEquals     = ["States.TaskFailed"]
            IntervalSeconds = 2
            MaxAttempts     = 2
            BackoffRate     = 2
          },
        ]
        Catch = [
          { ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "Escalate" },
        ]
        Next = "HasActions"
      }
      HasActions = {
        Type = "Choice"
        Choices = [
          { Variable = "$.plan.actions[0]", IsPresent = true, Next = "NoExecutor" },
        ]
        Default = "Escalate"
      }
      NoExecutor = {
        Type  = "Fail"
        Error = "Remediation.NoExecutor"
        Cause = "The plan has actions but no action executor is deployed yet."
      }
      Escalate = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::sns:publish"
        Parameters = {
          TopicArn    = aws_sns_topic.escalations.arn
          Subject     = "Heal-Ops escalation"
          "Message.$" = "States.JsonToString($)"
        }
        ResultPath = "$.escalation"
        Next       = "Escalated"
      }
      Escalated = {
        Type  = "Fail"
        Error = "Remediation.Escalated"
        Cause = "Heal-Ops could not remediate the incident; it was escalated to humans."
      }
    }
  }
}

resource "aws_sfn_state_machine" "remediation" {
  name       = local.state_machine_name
  role_arn   = aws_iam_role.sfn.arn
  definition = jsonencode(local.remediation_definition)

  depends_on = [aws_iam_role_policy.sfn]
}
