################################################################################
# DynamoDB tables (on-demand); every name is <name_prefix>-<table>
################################################################################

locals {
  tables = {
    incidents = {
      hash_key   = "incident_id"
      range_key  = null
      attributes = { incident_id = "S", status = "S", service = "S", opened_at = "S" }
      indexes = {
        by_status  = { hash_key = "status", range_key = "opened_at" }
        by_service = { hash_key = "service", range_key = "opened_at" }
      }
      # The dashboard and notifications can follow incidents as they change.
      stream = true
      ttl    = null
    }
    remediations = {
      hash_key   = "incident_id"
      range_key  = "attempt_id"
      attributes = { incident_id = "S", attempt_id = "S", service = "S", started_at = "S" }
      indexes    = { by_service = { hash_key = "service", range_key = "started_at" } }
      stream     = false
      ttl        = null
    }
    llm_actions = {
      hash_key   = "incident_id"
      range_key  = "call_id"
      attributes = { incident_id = "S", call_id = "S" }
      indexes    = {}
      stream     = false
      ttl        = null
    }
    agent_decisions = {
      hash_key   = "incident_id"
      range_key  = "seq"
      attributes = { incident_id = "S", seq = "N", day = "S", at = "S" }
      indexes    = { by_day = { hash_key = "day", range_key = "at" } }
      stream     = false
      ttl        = null
    }
    fleet = {
      hash_key   = "service"
      range_key  = null
      attributes = { service = "S" }
      indexes    = {}
      stream     = false
      ttl        = null
    }
    injections = {
      hash_key   = "injection_id"
      range_key  = null
      attributes = { injection_id = "S", service = "S", injected_at = "S" }
      indexes    = { by_service = { hash_key = "service", range_key = "injected_at" } }
      stream     = false
      ttl        = null
    }
    detector_state = {
      hash_key   = "series_key"
      range_key  = null
      attributes = { series_key = "S" }
      indexes    = {}
      stream     = false
      ttl        = null
    }
    # What each sink was told about an incident (healops/store/notifications.py).
    notifications = {
      hash_key   = "incident_id"
      range_key  = "delivery_id"
      attributes = { incident_id = "S", delivery_id = "S" }
      indexes    = {}
      stream     = false
      ttl        = null
    }
    # Powertools idempotency's default table shape: key "id", TTL on "expiration".
    idempotency = {
      hash_key   = "id"
      range_key  = null
      attributes = { id = "S" }
      indexes    = {}
      stream     = false
      ttl        = "expiration"
    }
  }
}

resource "aws_dynamodb_table" "this" {
  # checkov:skip=CKV_AWS_119:Encrypted with the AWS-managed key; a customer key would add a grant per table and a KMS request per cache miss for no reader this stack does not already trust.
  for_each = local.tables

  name         = "${var.name_prefix}-${each.key}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = each.value.hash_key
  range_key    = each.value.range_key

  stream_enabled   = each.value.stream
  stream_view_type = each.value.stream ? "NEW_AND_OLD_IMAGES" : null

  dynamic "attribute" {
    for_each = each.value.attributes

    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.indexes

    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = "ALL"
    }
  }

  dynamic "ttl" {
    for_each = each.value.ttl == null ? [] : [each.value.ttl]

    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = var.dynamodb_point_in_time_recovery
  }

  # The AWS-managed key (aws/dynamodb): visible in KMS and CloudTrail, no key policy to keep.
  server_side_encryption {
    enabled = true
  }
}
