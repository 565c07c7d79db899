"""Which provider and model the reasoner uses, and how it calls them: from the environment and SSM.

Names are the SDKs' own where they exist (``GEMINI_API_KEY``, ``GOOGLE_API_KEY``,
``GOOGLE_GEMINI_BASE_URL``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``NVIDIA_API_KEY``) and
``HEALOPS_LLM_*`` otherwise. Deployed functions read the same settings from SSM parameters under
``/<name_prefix>/llm/`` (keys as SecureString), through Powertools' parameters utility, which
caches them; an environment variable, when set, wins over its parameter.

With no provider named, the first provider with a key is used (gemini, nim, openai), and the
offline reasoner when there is none.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from healops.llm.exceptions import SettingsError

logger = logging.getLogger(__name__)

PROVIDERS = ("offline", "gemini", "nim", "openai")
NIM_BASE_URL = "https://integrate.api.nvidia.com/v1"
DEFAULT_MODELS = {
    "offline": "rules-v1",
    "gemini": "gemini-2.5-flash",
    "nim": "meta/llama-3.3-70b-instruct",
    "openai": "gpt-4o-mini",
}
RESPONSE_FORMATS = ("json_schema", "json_object")
DEFAULT_PARAMETERS_PATH = "/healops/llm"
# Seconds Powertools keeps SSM values before fetching them again.
PARAMETERS_MAX_AGE_S = 300

# Environment variable names, and the SSM parameter (under the path) of each setting.
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "provider": ("HEALOPS_LLM_PROVIDER",),
    "model": ("HEALOPS_LLM_MODEL",),
    # The SDK's own precedence: GOOGLE_API_KEY wins over GEMINI_API_KEY.
    "gemini_api_key": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "gemini_base_url": ("GOOGLE_GEMINI_BASE_URL",),
    "openai_api_key": ("OPENAI_API_KEY",),
    "openai_base_url": ("OPENAI_BASE_URL",),
    "nvidia_api_key": ("NVIDIA_API_KEY",),
    "nim_base_url": ("HEALOPS_LLM_NIM_BASE_URL",),
    "response_format": ("HEALOPS_LLM_RESPONSE_FORMAT",),
    "timeout_s": ("HEALOPS_LLM_TIMEOUT_S",),
    "max_retries": ("HEALOPS_LLM_MAX_RETRIES",),
    "plan_deadline_s": ("HEALOPS_LLM_PLAN_DEADLINE_S",),
    "token_budget": ("HEALOPS_LLM_TOKEN_BUDGET",),
    "max_output_tokens": ("HEALOPS_LLM_MAX_OUTPUT_TOKENS",),
    "price_in_per_mtok": ("HEALOPS_LLM_PRICE_IN_PER_MTOK",),
    "price_out_per_mtok": ("HEALOPS_LLM_PRICE_OUT_PER_MTOK",),
}
SECRET_SETTINGS = frozenset({"gemini_api_key", "openai_api_key", "nvidia_api_key"})
PARAMETERS_PATH_ENV = "HEALOPS_LLM_PARAMETERS_PATH"


@dataclass(frozen=True)
class LLMSettings:
    provider: str = ""
    model: str = ""
    gemini_api_key: str = field(default="", repr=False)
    gemini_base_url: str = ""
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = ""
    nvidia_api_key: str = field(default="", repr=False)
    nim_base_url: str = NIM_BASE_URL
    response_format: str = "json_schema"
    timeout_s: float = 20.0  # per request
    max_retries: int = 2
    # The longest one plan may wait for a model, retries and backoff included; a deployed plan step also
    # stops before its Lambda's remaining time (functions/remediator/app.py). Then the offline reasoner answers.
    plan_deadline_s: float = 40.0
    token_budget: int = 12_000
    max_output_tokens: int = 1_024
    price_in_per_mtok: float = 0.0
    price_out_per_mtok: float = 0.0

    @property
    def chosen_provider(self) -> str:
        """The named provider, or the first with a key, or offline."""
        if self.provider:
            return self.provider
        for name, key in (("gemini", self.gemini_api_key), ("nim", self.nvidia_api_key)):
            if key:
                return name
        return "openai" if self.openai_api_key else "offline"

    @property
    def chosen_model(self) -> str:
        return self.model or DEFAULT_MODELS[self.chosen_provider]

    def secrets(self) -> list[str]:
        """The configured keys, for verbatim redaction."""
        return [getattr(self, name) for name in SECRET_SETTINGS if getattr(self, name)]

    def estimated_cost_usd(self, tokens_in: int, tokens_out: int) -> float:
        return round((tokens_in * self.price_in_per_mtok + tokens_out * self.price_out_per_mtok) / 1_000_000, 6)


_CONVERTERS: dict[str, type] = {f.name: type(f.default) for f in fields(LLMSettings)}


def _coerce(values: Mapping[str, str]) -> dict[str, Any]:
    coerced: dict[str, Any] = {}
    for name, raw in values.items():
        kind = _CONVERTERS[name]
        try:
            coerced[name] = kind(raw.strip()) if kind is not str else raw.strip()
        except ValueError as exc:
            names = "/".join(ENV_NAMES[name])
            raise SettingsError(f"{names} must be a {kind.__name__} (got {raw!r})") from exc
    provider = coerced.get("provider", "").lower()
    if provider and provider not in PROVIDERS:
        raise SettingsError(f"HEALOPS_LLM_PROVIDER must be one of {', '.join(PROVIDERS)} (got {provider!r})")
    if provider:
        coerced["provider"] = provider
    fmt = coerced.get("response_format")
    if fmt and fmt not in RESPONSE_FORMATS:
        raise SettingsError(f"HEALOPS_LLM_RESPONSE_FORMAT must be one of {', '.join(RESPONSE_FORMATS)} (got {fmt!r})")
    return coerced


def values_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Each setting's value from ``environ`` (first set name wins); empty values count as unset."""
    found: dict[str, str] = {}
    for name, env_names in ENV_NAMES.items():
        for env_name in env_names:
            if environ.get(env_name):
                found[name] = environ[env_name]
                break
    return found


def values_from_ssm(path: str, ssm_client: Any | None = None) -> dict[str, str]:
    """The settings stored under ``path`` (SecureStrings decrypted), cached by Powertools."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    provider = SSMProvider(boto3_client=ssm_client) if ssm_client is not None else _default_ssm()
    values = provider.get_multiple(path, decrypt=True, max_age=PARAMETERS_MAX_AGE_S)
    return {name: str(value) for name, value in values.items() if name in ENV_NAMES and value}


_ssm_provider: Any = None


def _default_ssm() -> Any:
    # One provider per process, so its cache outlives a single call (handlers reuse the process).
    global _ssm_provider
    if _ssm_provider is None:
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        _ssm_provider = SSMProvider()
    return _ssm_provider


def load_settings(
    environ: Mapping[str, str] | None = None, ssm_client: Any | None = None, use_ssm: bool | None = None
) -> LLMSettings:
    """Settings from SSM (when ``use_ssm``, by default when HEALOPS_LLM_PARAMETERS_PATH is set) and the environment.

    An unreachable SSM is logged and ignored: the reasoner then runs with what the environment
    gives, offline at worst, rather than not at all.
    """
    env = os.environ if environ is None else environ
    path = env.get(PARAMETERS_PATH_ENV, "")
    if use_ssm is None:
        use_ssm = bool(path)
    values: dict[str, str] = {}
    if use_ssm:
        try:
            values.update(values_from_ssm(path or DEFAULT_PARAMETERS_PATH, ssm_client))
        except Exception as exc:
            logger.warning("could not read LLM settings from SSM (%s): %s", path, type(exc).__name__)
    values.update(values_from_env(env))
    return replace(LLMSettings(), **_coerce(values))
