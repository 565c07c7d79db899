"""The reasoner's settings as Terraform variables, for ``healops up`` (terraform/llm.tf turns them into SSM).

``terraform_variables_from_env`` maps the environment a user runs ``make run`` in to the
variables of ``terraform/llm.tf``. :data:`SECRET_VARIABLES` names the ones that hold keys:
``healops up`` passes those to the tflocal process as ``TF_VAR_<name>`` environment variables
only, never in a file, and never prints them.
"""

from __future__ import annotations

from collections.abc import Mapping

from healops.llm.exceptions import SettingsError
from healops.llm.settings import ENV_NAMES, PROVIDERS, values_from_env

# Terraform variable -> setting (healops/llm/settings.py), whose environment names ENV_NAMES lists.
VARIABLE_SETTINGS: dict[str, str] = {
    "llm_provider": "provider",
    "llm_model": "model",
    "llm_gemini_base_url": "gemini_base_url",
    "llm_openai_base_url": "openai_base_url",
    "llm_nim_base_url": "nim_base_url",
    "llm_gemini_api_key": "gemini_api_key",
    "llm_openai_api_key": "openai_api_key",
    "llm_nvidia_api_key": "nvidia_api_key",
}
SECRET_VARIABLES = frozenset({"llm_gemini_api_key", "llm_openai_api_key", "llm_nvidia_api_key"})


def terraform_variables_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The terraform/llm.tf variables ``environ`` sets (unset and empty ones left out)."""
    values = values_from_env(environ)
    provider = values.get("provider", "").strip().lower()
    if provider and provider not in PROVIDERS:
        raise SettingsError(
            f"{ENV_NAMES['provider'][0]} must be one of {', '.join(PROVIDERS)} (got {values['provider']!r})"
        )
    if provider:
        values["provider"] = provider
    return {variable: values[setting].strip() for variable, setting in VARIABLE_SETTINGS.items() if setting in values}


def split_secrets(variables: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain variables, secret variables)."""
    plain = {k: v for k, v in variables.items() if k not in SECRET_VARIABLES}
    secret = {k: v for k, v in variables.items() if k in SECRET_VARIABLES}
    return plain, secret
