################################################################################
# Targets: the real ECS services and Lambda functions Heal-Ops watches and heals
#
# var.targets lists them (an existing account's workloads); the demo fleet (demo_fleet.tf) makes
# real resources of these kinds on the embedded cloud and names them in the same shape. The list
# is one SSM document, read by what acts on the targets (healops/targets), so a target is added
# without a new function environment.
################################################################################

locals {
  targets_parameter = "/${var.name_prefix}/targets"
  target_names = [
    for t in concat(var.targets.ecs_services, var.targets.lambda_functions) : t.name
  ]
  # Every target's dependencies, by name: the call graph's edges out of the targets.
  target_dependencies = merge(
    { for t in var.targets.ecs_services : t.name => t.depends_on },
    { for t in var.targets.lambda_functions : t.name => t.depends_on },
  )
}

resource "aws_ssm_parameter" "targets" {
  # checkov:skip=CKV2_AWS_34:A plain setting, not a secret; as a String it is readable without a KMS call or grant.
  name        = local.targets_parameter
  description = "The real ECS services and Lambda functions Heal-Ops watches and heals (var.targets)."
  type        = "String"
  value = jsonencode({
    ecs_services     = var.targets.ecs_services
    lambda_functions = var.targets.lambda_functions
  })

  lifecycle {
    # A dependency is another target or a service of the simulated fleet: anything else is a typo.
    precondition {
      condition = alltrue(flatten([
        for name, dependencies in local.target_dependencies : [
          for d in dependencies : contains(concat(local.target_names, local.fleet_services), d)
        ]
      ]))
      error_message = "Each target's depends_on must name other targets or services of the fleet; unknown: ${join(", ", distinct(flatten([for name, dependencies in local.target_dependencies : [for d in dependencies : "${name} -> ${d}" if !contains(concat(local.target_names, local.fleet_services), d)]])))}."
    }
  }
}
