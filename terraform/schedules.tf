################################################################################
# EventBridge: the tick, alarm state changes, and the chaos schedule
################################################################################

locals {
  rules = {
    tick = {
      description         = "Tick: metrics_generator emits telemetry, detector evaluates it."
      schedule_expression = var.tick_schedule
      event_pattern       = null
      state               = "ENABLED"
    }
    alarm-state-change = {
      description         = "Every CloudWatch alarm state change, to the detector."
      schedule_expression = null
      event_pattern = jsonencode({
        source        = ["aws.cloudwatch"]
        "detail-type" = ["CloudWatch Alarm State Change"]
      })
      state = "ENABLED"
    }
    chaos = {
      description         = "Chaos: the injector injects a random fault (enabled by var.chaos_enabled)."
      schedule_expression = var.chaos_schedule
      event_pattern       = null
      state               = var.chaos_enabled ? "ENABLED" : "DISABLED"
    }
  }

  rule_targets = {
    tick-metrics-generator = { rule = "tick", function = "metrics_generator", input = null }
    tick-detector          = { rule = "tick", function = "detector", input = null }
    alarm-detector         = { rule = "alarm-state-change", function = "detector", input = null }
    chaos-injector         = { rule = "chaos", function = "injector", input = null }
  }

  # The chaos payload carries the firing's time: the injector's choice is a function of it and the seed.
  rule_input_transformers = {
    chaos-injector = {
      input_paths    = { time = "$.time" }
      input_template = "{\"action\": \"chaos\", \"time\": <time>, \"rate\": ${var.chaos_rate}, \"requested_by\": \"chaos\"}"
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.rules

  name                = "${var.name_prefix}-${each.key}"
  description         = each.value.description
  schedule_expression = each.value.schedule_expression
  event_pattern       = each.value.event_pattern
  state               = each.value.state
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.rule_targets

  rule      = aws_cloudwatch_event_rule.this[each.value.rule].name
  target_id = each.key
  arn       = module.lambda_function[each.value.function].lambda_function_arn
  input     = each.value.input

  dynamic "input_transformer" {
    for_each = contains(keys(local.rule_input_transformers), each.key) ? [local.rule_input_transformers[each.key]] : []

    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }
}

resource "aws_lambda_permission" "events" {
  for_each = local.rule_targets

  statement_id  = "events-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.lambda_function[each.value.function].lambda_function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.value.rule].arn
}
