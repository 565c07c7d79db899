################################################################################
# S3 buckets: log archive, metric archive, incident artifacts
################################################################################

locals {
  # Bucket names are global on AWS: the account id keeps them unique per account.
  buckets = {
    log_archive    = { name = "${var.name_prefix}-${local.account_id}-log-archive", expires = true }
    metric_archive = { name = "${var.name_prefix}-${local.account_id}-metric-archive", expires = true }
    artifacts      = { name = "${var.name_prefix}-${local.account_id}-artifacts", expires = false }
  }
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  bucket        = each.value.name
  force_destroy = var.s3_force_destroy
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Incident artifacts are evidence for audits: keep every version.
resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.this["artifacts"].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "archives" {
  for_each = { for key, bucket in local.buckets : key => bucket if bucket.expires }

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = "expire-archives"
    status = "Enabled"

    # The whole bucket. An explicit empty prefix rather than `filter {}`: the embedded cloud
    # (moto) answers an empty filter as {Prefix: ""}, and the provider then waits ~55 s for the
    # configuration it wrote to read back identically.
    filter {
      prefix = ""
    }

    expiration {
      days = var.archive_expiration_days
    }
  }
}
