################################################################################
# The demo fleet as real resources (var.demo_fleet; on for `healops up`)
#
# The fleet definition's named services, made as what a real account runs: auth and
# notifications as Lambda functions (a published version behind a `live` alias), every other
# named service as an ECS service in one cluster (a task definition per service, from its
# memory, CPU and replicas). Every resource is tagged healops:managed = true, the tag the
# ECS and Lambda write permissions require (iam.tf). On the embedded cloud no container runs:
# its ECS rolls deployments out and keeps running counts (healops/local/ecs). On AWS the
# services would need a network configuration and a pullable image: it is meant for the
# embedded cloud and LocalStack.
################################################################################

locals {
  demo_managed_tag      = { "healops:managed" = "true" }
  demo_lambda_names     = ["auth", "notifications"]
  demo_fleet_by_name    = { for s in local.fleet_definition.services : s.name => s }
  demo_cluster_name     = "${var.name_prefix}-demo"
  demo_lambda_alias     = "live"
  demo_ecs_services     = var.demo_fleet ? { for name, s in local.demo_fleet_by_name : name => s if !contains(local.demo_lambda_names, name) } : {}
  demo_lambda_functions = var.demo_fleet ? { for name, s in local.demo_fleet_by_name : name => s if contains(local.demo_lambda_names, name) } : {}
  demo_lambda_code_zip  = "${var.build_dir}/demo_workload.zip"
}

resource "aws_ecs_cluster" "demo" {
  count = var.demo_fleet ? 1 : 0
  name  = local.demo_cluster_name
  tags  = local.demo_managed_tag
}

resource "aws_ecs_task_definition" "demo" {
  # checkov:skip=CKV_AWS_336:No container of the demo fleet runs: its revisions are what rollbacks move between.
  for_each = local.demo_ecs_services

  family = "${var.name_prefix}-${each.key}"
  container_definitions = jsonencode([{
    name      = "app"
    image     = "healops-demo/${each.key}:${each.value.version}"
    cpu       = each.value.cpu_cores * 1024
    memory    = each.value.memory_limit_mb
    essential = true
  }])
  tags = local.demo_managed_tag
}

resource "aws_ecs_service" "demo" {
  for_each = local.demo_ecs_services

  name            = each.key
  cluster         = aws_ecs_cluster.demo[0].arn
  task_definition = aws_ecs_task_definition.demo[each.key].arn
  desired_count   = each.value.replicas
  tags            = local.demo_managed_tag

  # Heal-Ops moves the task definition and the desired count (rollback, raise memory, scale): a later apply
  # must not undo a fix.
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

data "aws_iam_policy_document" "demo_lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# The demo functions only answer: they need no permission beyond being run.
resource "aws_iam_role" "demo_lambda" {
  count              = var.demo_fleet ? 1 : 0
  name               = "${var.name_prefix}-demo-workload"
  assume_role_policy = data.aws_iam_policy_document.demo_lambda_assume.json
}

resource "aws_lambda_function" "demo" {
  # checkov:skip=CKV_AWS_116:A demo workload with no queue behind it: nothing to dead-letter.
  # checkov:skip=CKV_AWS_117:A demo workload: no VPC to reach.
  # checkov:skip=CKV_AWS_173:No environment variables to encrypt.
  # checkov:skip=CKV_AWS_272:Code signing is for the stack's own functions' supply chain; this is a demo answerer.
  # checkov:skip=CKV_AWS_50:X-Ray tracing of a demo answerer tells nothing.
  # checkov:skip=CKV_AWS_115:Its reserved concurrency is what the throttle action sets.
  for_each = local.demo_lambda_functions

  function_name    = "${var.name_prefix}-${each.key}"
  description      = "Demo workload ${each.key} (${each.value.version}), healed by Heal-Ops through its live alias."
  role             = aws_iam_role.demo_lambda[0].arn
  handler          = "app.handler"
  runtime          = var.lambda_runtime
  filename         = local.demo_lambda_code_zip
  source_code_hash = filebase64sha256(local.demo_lambda_code_zip)
  memory_size      = min(10240, max(128, each.value.memory_limit_mb)) # Lambda's bounds
  timeout          = 10
  publish          = true
  tags             = local.demo_managed_tag

  # Heal-Ops raises the memory (UpdateFunctionConfiguration) and publishes: a later apply must not undo it.
  lifecycle {
    ignore_changes = [memory_size]
  }
}

resource "aws_lambda_alias" "demo_live" {
  for_each = local.demo_lambda_functions

  name             = local.demo_lambda_alias
  description      = "The version serving ${each.key}'s traffic; a rollback moves it."
  function_name    = aws_lambda_function.demo[each.key].function_name
  function_version = aws_lambda_function.demo[each.key].version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}

locals {
  # The demo fleet in var.targets' shape (output demo_fleet_targets): what an operator would list for it.
  demo_targets = {
    ecs_services = [
      for name, s in local.demo_ecs_services : {
        name       = name
        cluster    = local.demo_cluster_name
        service    = aws_ecs_service.demo[name].name
        depends_on = s.depends_on
      }
    ]
    lambda_functions = [
      for name, s in local.demo_lambda_functions : {
        name          = name
        function_name = aws_lambda_function.demo[name].function_name
        alias         = aws_lambda_alias.demo_live[name].name
        depends_on    = s.depends_on
      }
    ]
  }
}
