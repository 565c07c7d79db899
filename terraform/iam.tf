################################################################################
# IAM catalogue: each function's access, least privilege
#
# Each entry is a list of statements scoped to the stack's own resources. Resource "*" only
# where the action has no resource-level permission (cloudwatch:GetMetricData,
# cloudwatch:PutMetricData, the latter narrowed by a namespace condition);
# tests/unit/test_terraform.py holds that list of exceptions (WILDCARD_RESOURCE_ACTIONS).
################################################################################

locals {
  table_arns = { for key, table in aws_dynamodb_table.this : key => table.arn }
  # Table ARN plus its indexes, for Query on a GSI.
  table_and_index_arns = { for key, arn in local.table_arns : key => [arn, "${arn}/index/*"] }

  state_machine_name = "${var.name_prefix}-remediation"
  # Built from its parts: the remediator needs it and the machine needs the remediator's ARN.
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"

  service_log_group_prefix     = "/${var.name_prefix}/services"
  remediation_policy_parameter = "/${var.name_prefix}/remediation/policy"
  # Read by the remediator (the guard's limits) and the planner (attempts, reopens, dry run).
  remediation_policy_parameter_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.remediation_policy_parameter}"
  service_log_group_arns           = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.service_log_group_prefix}/*"]
  service_log_stream_arns          = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.service_log_group_prefix}/*:log-stream:*"]

  # The targets (targets.tf): any ECS service, task definition, scalable target or Lambda function of the account
  # and region by ARN, narrowed by the tag every write requires (healops:managed = true): the tag is what an
  # operator sets to let Heal-Ops act on a resource, so adding a target needs no new policy.
  targets_parameter_arn       = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.targets_parameter}"
  target_ecs_service_arns     = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/*"]
  target_task_definition_arns = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/*"]
  target_scalable_target_arns = ["arn:${local.partition}:application-autoscaling:${local.region}:${local.account_id}:scalable-target/*"]
  target_lambda_function_arns = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:*"]

  function_policy_statements = {
    detector = [
      {
        sid       = "IncidentsWrite"
        actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
        resources = local.table_and_index_arns.incidents
      },
      {
        # Query finds the last step's number; PutItem appends after it (conditional).
        sid       = "DecisionsWrite"
        actions   = ["dynamodb:PutItem", "dynamodb:Query"]
        resources = [local.table_arns.agent_decisions]
      },
      {
        sid       = "DetectorStateReadWrite"
        actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"]
        resources = [local.table_arns.detector_state]
      },
      {
        sid       = "IncidentsEnqueue"
        actions   = ["sqs:SendMessage"]
        resources = [aws_sqs_queue.incidents.arn]
      },
      {
        sid       = "MetricsRead"
        actions   = ["cloudwatch:GetMetricData"]
        resources = ["*"]
      },
      {
        sid       = "ServiceLogsRead"
        actions   = ["logs:FilterLogEvents"]
        resources = local.service_log_group_arns
      },
      {
        sid       = "ArtifactsWrite"
        actions   = ["s3:PutObject"]
        resources = ["${aws_s3_bucket.this["artifacts"].arn}/*"]
      },
      {
        # An escalated incident's service recovered: the people told of it are told it resolved.
        sid       = "NotifierInvoke"
        actions   = ["lambda:InvokeFunction"]
        resources = [local.notifier_function_arn]
      },
    ]
    remediator = [
      {
        sid       = "IncidentsConsume"
        actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
        resources = [aws_sqs_queue.incidents.arn]
      },
      {
        sid       = "RemediationStart"
        actions   = ["states:StartExecution"]
        resources = [local.state_machine_arn]
      },
      {
        sid       = "RemediationRecords"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
        resources = concat(local.table_and_index_arns.remediations, [local.table_arns.agent_decisions])
      },
      {
        sid       = "RemediationIncidents"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
        resources = local.table_and_index_arns.incidents
      },
      {
        # The fleet adapter: read a service, write it conditionally (no Scan: services by key).
        sid       = "FleetAct"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
        resources = [local.table_arns.fleet]
      },
      {
        # Mark a fault the action ended as fixed; the remediator never reads the ground truth.
        sid       = "InjectionsEnd"
        actions   = ["dynamodb:UpdateItem"]
        resources = [local.table_arns.injections]
      },
      {
        sid       = "RemediationMetricsRead"
        actions   = ["cloudwatch:GetMetricData"]
        resources = ["*"]
      },
      {
        sid       = "RemediationPolicyRead"
        actions   = ["ssm:GetParameter"]
        resources = [local.remediation_policy_parameter_arn]
      },
      {
        sid       = "Idempotency"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        resources = [local.table_arns.idempotency]
      },
      {
        # Approvals waiting, actions taken, fixes not verified, resolutions and escalations (asynchronous).
        sid       = "RemediationNotifierInvoke"
        actions   = ["lambda:InvokeFunction"]
        resources = [local.notifier_function_arn]
      },
      # The actions on real resources (healops/targets): exactly the calls they make, each write only on a
      # resource tagged healops:managed = true. tests/unit/test_targets_iam.py holds both to the code.
      {
        sid       = "TargetsRead"
        actions   = ["ssm:GetParameter"]
        resources = [local.targets_parameter_arn]
      },
      {
        # Before and after every action, and verify: the service's deployments and counts.
        sid       = "EcsTargetsRead"
        actions   = ["ecs:DescribeServices"]
        resources = local.target_ecs_service_arns
      },
      {
        # The revisions a rollback chooses between and raise_memory copies; the service's scalable target.
        sid       = "EcsTargetsReadRevisions"
        actions   = ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "application-autoscaling:DescribeScalableTargets"]
        resources = ["*"]
      },
      {
        # restart (forceNewDeployment), scale (desiredCount), rollback and raise_memory (taskDefinition).
        sid       = "EcsTargetsAct"
        actions   = ["ecs:UpdateService"]
        resources = local.target_ecs_service_arns
        conditions = [
          { test = "StringEquals", variable = "aws:ResourceTag/healops:managed", values = ["true"] },
        ]
      },
      {
        # raise_memory's new revision: only one that carries the tag (it copies the current revision's tags).
        sid       = "EcsTargetsRegisterRevision"
        actions   = ["ecs:RegisterTaskDefinition"]
        resources = ["*"]
        conditions = [
          { test = "StringEquals", variable = "aws:RequestTag/healops:managed", values = ["true"] },
        ]
      },
      {
        # ECS authorises the tags of a RegisterTaskDefinition as a TagResource, on creation only.
        sid       = "EcsTargetsTagRevision"
        actions   = ["ecs:TagResource"]
        resources = local.target_task_definition_arns
        conditions = [
          { test = "StringEquals", variable = "ecs:CreateAction", values = ["RegisterTaskDefinition"] },
          { test = "StringEquals", variable = "aws:RequestTag/healops:managed", values = ["true"] },
        ]
      },
      {
        # scale on a service under Application Auto Scaling moves its bounds first (its scalable target is tagged too).
        sid       = "EcsTargetsScaleBounds"
        actions   = ["application-autoscaling:RegisterScalableTarget"]
        resources = local.target_scalable_target_arns
        conditions = [
          { test = "StringEquals", variable = "aws:ResourceTag/healops:managed", values = ["true"] },
        ]
      },
      {
        # The alias, its versions, memory and reserved concurrency; GetFunction is the update waiter's poll (on a
        # tagged function it needs ListTags too).
        sid       = "LambdaTargetsRead"
        actions   = ["lambda:GetAlias", "lambda:GetFunction", "lambda:ListTags", "lambda:GetFunctionConfiguration", "lambda:GetFunctionConcurrency", "lambda:ListVersionsByFunction"]
        resources = local.target_lambda_function_arns
      },
      {
        # rollback (UpdateAlias), throttle and its undo (Put/DeleteFunctionConcurrency), raise_memory (update, publish, move).
        sid       = "LambdaTargetsAct"
        actions   = ["lambda:UpdateAlias", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion"]
        resources = local.target_lambda_function_arns
        conditions = [
          { test = "StringEquals", variable = "aws:ResourceTag/healops:managed", values = ["true"] },
        ]
      },
    ]
    # The Plan state: reads what planning needs and writes only its audit. No write on the fleet, remediations or
    # incidents tables (the remediator recorded the incident before it started the execution), nothing that acts.
    planner = [
      {
        sid       = "PlanIncidentRead"
        actions   = ["dynamodb:GetItem"]
        resources = [local.table_arns.incidents]
      },
      {
        # The incident's own attempts (by incident) and the service's latest (by_service GSI).
        sid       = "PlanHistoryRead"
        actions   = ["dynamodb:Query"]
        resources = local.table_and_index_arns.remediations
      },
      {
        # The service's replicas, version and dependencies (no Scan: services by key).
        sid       = "PlanFleetRead"
        actions   = ["dynamodb:GetItem"]
        resources = [local.table_arns.fleet]
      },
      {
        # The model calls (reused when the plan step runs again) and the reasoning steps: Query finds the last
        # step's number, PutItem appends after it. Never updated or deleted.
        sid       = "PlanAuditWrite"
        actions   = ["dynamodb:PutItem", "dynamodb:Query"]
        resources = [local.table_arns.llm_actions, local.table_arns.agent_decisions]
      },
      {
        sid       = "PlanMetricsRead"
        actions   = ["cloudwatch:GetMetricData"]
        resources = ["*"]
      },
      {
        # The planner quotes a few of the incident's service's log lines (healops/remediation/evidence.py).
        sid       = "PlanServiceLogsRead"
        actions   = ["logs:FilterLogEvents"]
        resources = local.service_log_group_arns
      },
      {
        # Attempts allowed, reopens and dry run come from the guard's limits.
        sid       = "PlanPolicyRead"
        actions   = ["ssm:GetParameter"]
        resources = [local.remediation_policy_parameter_arn]
      },
      {
        sid       = "LlmSettingsRead"
        actions   = ["ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"]
        resources = local.llm_parameter_arns
      },
      {
        # Only the stack's key (keys.tf), the one the SecureStrings are written with, and only through SSM.
        sid       = "LlmKeysDecrypt"
        actions   = ["kms:Decrypt"]
        resources = [aws_kms_key.this.arn]
        conditions = [
          { test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] },
        ]
      },
    ]
    injector = [
      {
        # No DeleteItem: the injector cannot remove services (a seed that would shrink the fleet is refused).
        sid       = "FleetReadWrite"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"]
        resources = [local.table_arns.fleet]
      },
      {
        sid       = "InjectionsReadWrite"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
        resources = local.table_and_index_arns.injections
      },
    ]
    metrics_generator = [
      {
        sid       = "MetricsWrite"
        actions   = ["cloudwatch:PutMetricData"]
        resources = ["*"]
        conditions = [
          { test = "StringEquals", variable = "cloudwatch:namespace", values = [var.metrics_namespace] },
        ]
      },
      {
        sid       = "ServiceLogsWrite"
        actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        resources = concat(local.service_log_group_arns, local.service_log_stream_arns)
      },
      {
        # Scan reads the fleet each tick; PutItem records a benign deploy (conditional on the version).
        sid       = "FleetReadDeploy"
        actions   = ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:PutItem"]
        resources = [local.table_arns.fleet]
      },
      {
        # Each tick's object, and the hourly compaction (read the hour's tick objects, delete them).
        sid       = "ArchivesWrite"
        actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
        resources = ["${aws_s3_bucket.this["log_archive"].arn}/*", "${aws_s3_bucket.this["metric_archive"].arn}/*"]
      },
      {
        sid       = "ArchivesList"
        actions   = ["s3:ListBucket"]
        resources = [aws_s3_bucket.this["log_archive"].arn, aws_s3_bucket.this["metric_archive"].arn]
      },
    ]
    notifier = [
      {
        # The sinks' secrets, one SecureString each under /<prefix>/notify/ (only those that are set exist).
        sid       = "NotifySettingsRead"
        actions   = ["ssm:GetParametersByPath"]
        resources = local.notify_parameter_arns
      },
      {
        sid       = "NotifySecretsDecrypt"
        actions   = ["kms:Decrypt"]
        resources = [aws_kms_key.this.arn]
        conditions = [
          { test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${local.region}.amazonaws.com"] },
        ]
      },
      {
        # One item per delivery; never read back, updated or deleted by the notifier.
        sid       = "DeliveriesWrite"
        actions   = ["dynamodb:PutItem"]
        resources = [local.table_arns.notifications]
      },
      {
        # E-mail: the topic's e-mail subscriptions (notify_emails) get the events the state machine does not publish.
        sid       = "EmailPublish"
        actions   = ["sns:Publish"]
        resources = [aws_sns_topic.escalations.arn]
      },
      {
        sid       = "EmailPublishEncrypted"
        actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
        resources = [aws_kms_key.this.arn]
        conditions = [
          { test = "StringEquals", variable = "kms:ViaService", values = ["sns.${local.region}.amazonaws.com"] },
        ]
      },
    ]
  }
}

################################################################################
# Step Functions role: invoke the planner and the remediator, publish escalations
################################################################################

data "aws_iam_policy_document" "sfn_assume" {
  statement {
    sid     = "StatesAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "sfn" {
  name               = "${var.name_prefix}-remediation-sfn"
  assume_role_policy = data.aws_iam_policy_document.sfn_assume.json
}

data "aws_iam_policy_document" "sfn" {
  statement {
    sid       = "InvokePlanner"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.lambda_function["planner"].lambda_function_arn, "${module.lambda_function["planner"].lambda_function_arn}:*"]
  }

  statement {
    sid       = "InvokeRemediator"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.lambda_function["remediator"].lambda_function_arn, "${module.lambda_function["remediator"].lambda_function_arn}:*"]
  }

  statement {
    sid       = "Escalate"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.escalations.arn]
  }

  # The topic is encrypted with the stack's key: publishing needs a data key from it, through SNS only.
  statement {
    sid       = "EscalateEncrypted"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.this.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid     = "XRayWrite"
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    # X-Ray's actions have no resource-level permissions: "*" is the only resource they accept.
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "sfn" {
  name   = "${var.name_prefix}-remediation-sfn"
  role   = aws_iam_role.sfn.id
  policy = data.aws_iam_policy_document.sfn.json
}
