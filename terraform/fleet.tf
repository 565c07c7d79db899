################################################################################
# The simulated fleet: its definition file, its size, and its seeding into the fleet table
#
# The definition (healops/fleet/fleet.json) names eight services and their call graph; a fleet
# of var.fleet_size services adds copies of that graph with the rule healops/fleet/definition.py
# applies: service i >= n (n named ones) is "<name of service i % n>-<floor(i / n)>". The alarms
# and service log groups (alarms.tf) are made for exactly these names, so they cannot drift.
################################################################################

locals {
  fleet_definition = jsondecode(file(var.fleet_definition_file))
  fleet_named      = [for s in local.fleet_definition.services : s.name]
  fleet_services = [
    for i in range(var.fleet_size) :
    i < length(local.fleet_named) ? local.fleet_named[i] : "${local.fleet_named[i % length(local.fleet_named)]}-${floor(i / length(local.fleet_named))}"
  ]
  # var.services, when set, narrows the alarms and log groups to some of the fleet's services.
  services = var.services == null ? local.fleet_services : var.services

  # Tick period of the schedule in seconds (healops/fleet/clock.py reads the same rule): rate(N unit), else 60.
  tick_rate    = regexall("^rate\\((\\d+) (minute|minutes|hour|hours|day|days)\\)$", var.tick_schedule)
  tick_seconds = length(local.tick_rate) == 0 ? 60 : tonumber(local.tick_rate[0][0]) * lookup({ minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 }, local.tick_rate[0][1])
}

# The injector's "seed" action makes the fleet table hold exactly these services (idempotent:
# existing services keep their run-time state). Re-runs when the definition or the size changes.
resource "aws_lambda_invocation" "fleet_seed" {
  function_name = module.lambda_function["injector"].lambda_function_name

  input = jsonencode({
    action       = "seed"
    definition   = local.fleet_definition
    fleet_size   = var.fleet_size
    requested_by = "terraform"
  })

  triggers = {
    definition = sha256(jsonencode(local.fleet_definition))
    fleet_size = tostring(var.fleet_size)
  }

  # The role's policies must be in place before the function writes to the table.
  depends_on = [module.lambda_function, aws_dynamodb_table.this]
}
