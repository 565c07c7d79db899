terraform {
  # Write-only attributes (value_wo on the SSM SecureStrings) need Terraform 1.11.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
