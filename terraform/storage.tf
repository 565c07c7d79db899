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
  # checkov:skip=CKV_AWS_18:Access logs of buckets only the stack's own roles reach; CloudTrail data events are the account's choice (and bill).
  # checkov:skip=CKV_AWS_144:Cross-region replication doubles storage for archives that expire; the artifacts are evidence, not the system of record.
  # checkov:skip=CKV2_AWS_62:No consumer of object-created events: the functions that write the objects are the ones that read them.
  # checkov:skip=CKV_AWS_21:The artifacts bucket is versioned; the archives are rewritten by the hourly compaction and expire, so versions would keep every compacted tick object.
  # checkov:skip=CKV_AWS_145:SSE-S3 (AES-256) encrypts at rest; SSE-KMS would add a KMS request to every tick's archive write.
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

# Archives expire; artifacts keep their current version and let old versions go. Every bucket drops
# the parts of uploads that never completed.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = each.value.expires ? "expire-archives" : "expire-old-versions"
    status = "Enabled"

    # The whole bucket. An explicit empty prefix rather than `filter {}`: the embedded cloud
    # (moto) answers an empty filter as {Prefix: ""}, and the provider then waits ~55 s for the
    # configuration it wrote to read back identically.
    filter {
      prefix = ""
    }

    dynamic "expiration" {
      for_each = each.value.expires ? [var.archive_expiration_days] : []

      content {
        days = expiration.value
      }
    }

    dynamic "noncurrent_version_expiration" {
      for_each = each.value.expires ? [] : [var.artifacts_noncurrent_expiration_days]

      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Versioning first: a noncurrent-version rule on a bucket not yet versioned is refused.
  depends_on = [aws_s3_bucket_versioning.artifacts]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.archives
  to   = aws_s3_bucket_lifecycle_configuration.this
}
