# Plain `terraform` on AWS uses this block as it is. `tflocal` (the embedded cloud, LocalStack)
# adds an override file beside it that points every service endpoint at the local endpoint.
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Project = "heal-ops", Stack = var.name_prefix }, var.tags)
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
}
