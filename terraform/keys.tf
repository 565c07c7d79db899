################################################################################
# KMS: the stack's own key, for its secrets in SSM and its escalations topic
#
# One customer-managed key (list price $1 a month): the SSM SecureStrings (LLM keys) and the SNS topic
# are encrypted with it, so a role's kms:Decrypt names this key alone (not every key SSM could use),
# and the key policy can let CloudWatch alarms publish to the encrypted topic (AWS's aws/sns key
# cannot: its policy is fixed and CloudWatch is not in it).
################################################################################

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111:A key policy's resource "*" is the key itself; write actions go to this account's IAM (which decides per role) and to CloudWatch alarms only.
  # checkov:skip=CKV_AWS_356:In a key policy "*" means the key the policy is attached to, nothing wider.
  # checkov:skip=CKV_AWS_109:Key management is delegated to this account's IAM policies (AWS's default key policy, actions spelled out); no other principal may manage the key.
  # AWS's default key policy ("the account's IAM policies decide"), with the actions spelled out
  # instead of kms:*. In a key policy, resource "*" means this key.
  statement {
    sid = "AccountIamPoliciesDecide"
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
      "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
      "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants",
      "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion",
      "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # Alarm actions publish to the encrypted topic (alarms.tf).
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Heal-Ops ${var.name_prefix}: SSM SecureStrings and the escalations topic."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}
