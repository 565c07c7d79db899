################################################################################
# LLM reasoner settings: SSM parameters under /<name_prefix>/llm/, keys as SecureString
#
# `healops up` fills these variables from its environment (healops/llm/deploy.py): the plain
# settings through its tfvars file, the keys as TF_VAR_ environment variables of the tflocal
# process only. Keys are written with value_wo (write-only), so they never enter the state.
# Only settings that are set become parameters; none at all means the offline reasoner.
################################################################################

variable "llm_provider" {
  description = "LLM provider of the reasoner. Allowed: \"\" (the first with a key, offline without), offline, gemini, nim, openai."
  type        = string
  default     = ""

  validation {
    condition     = contains(["", "offline", "gemini", "nim", "openai"], var.llm_provider)
    error_message = "llm_provider must be one of: \"\", offline, gemini, nim, openai."
  }
}

variable "llm_model" {
  description = "Model name for the chosen provider; empty for the provider's default (healops/llm/settings.py)."
  type        = string
  default     = ""
}

variable "llm_gemini_base_url" {
  description = "Base URL of the Gemini API (GOOGLE_GEMINI_BASE_URL); empty for Google's."
  type        = string
  default     = ""
}

variable "llm_openai_base_url" {
  description = "Base URL of an OpenAI-compatible API (OPENAI_BASE_URL: OpenAI, vLLM, Ollama, a self-hosted NIM); empty for OpenAI's."
  type        = string
  default     = ""
}

variable "llm_nim_base_url" {
  description = "Base URL of NVIDIA NIM for the nim provider; empty for NIM's public endpoint."
  type        = string
  default     = ""
}

variable "llm_gemini_api_key" {
  description = "Gemini API key (GEMINI_API_KEY or GOOGLE_API_KEY); stored as a SecureString."
  type        = string
  default     = ""
  sensitive   = true
}

variable "llm_openai_api_key" {
  description = "OpenAI-compatible API key (OPENAI_API_KEY); stored as a SecureString."
  type        = string
  default     = ""
  sensitive   = true
}

variable "llm_nvidia_api_key" {
  description = "NVIDIA NIM API key (NVIDIA_API_KEY); stored as a SecureString."
  type        = string
  default     = ""
  sensitive   = true
}

variable "llm_api_keys_version" {
  description = "Bump to rewrite the key parameters after changing a key (they are write-only, so Terraform cannot see a change)."
  type        = number
  default     = 1
}

locals {
  llm_parameters_path = "/${var.name_prefix}/llm"
  llm_parameter_arns = [
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.llm_parameters_path}",
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.llm_parameters_path}/*",
  ]

  # Parameter names are the setting names healops/llm/settings.py reads.
  llm_settings = {
    provider        = var.llm_provider
    model           = var.llm_model
    gemini_base_url = var.llm_gemini_base_url
    openai_base_url = var.llm_openai_base_url
    nim_base_url    = var.llm_nim_base_url
  }
  llm_api_keys = {
    gemini_api_key = var.llm_gemini_api_key
    openai_api_key = var.llm_openai_api_key
    nvidia_api_key = var.llm_nvidia_api_key
  }
  # Whether a key is set is not secret; its value is.
  llm_api_keys_set = toset([for name, key in local.llm_api_keys : name if nonsensitive(key != "")])
}

resource "aws_ssm_parameter" "llm_setting" {
  # checkov:skip=CKV2_AWS_34:A plain setting, not a secret (keys are SecureStrings); as a String it is readable without a KMS call or grant.
  for_each = { for name, value in local.llm_settings : name => value if value != "" }

  name        = "${local.llm_parameters_path}/${each.key}"
  description = "Heal-Ops LLM reasoner setting ${each.key}."
  type        = "String"
  value       = each.value
}

resource "aws_ssm_parameter" "llm_api_key" {
  for_each = local.llm_api_keys_set

  name             = "${local.llm_parameters_path}/${each.key}"
  description      = "Heal-Ops LLM reasoner ${each.key} (write-only: not in the Terraform state)."
  type             = "SecureString"
  key_id           = aws_kms_key.this.arn
  value_wo         = local.llm_api_keys[each.key]
  value_wo_version = var.llm_api_keys_version
}
