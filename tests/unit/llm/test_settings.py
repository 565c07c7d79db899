"""Settings from the environment and SSM (Powertools parameters, SecureString decrypted)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from healops.llm.exceptions import SettingsError
from healops.llm.settings import NIM_BASE_URL, load_settings


def test_no_key_means_offline() -> None:
    settings = load_settings({})
    assert (settings.chosen_provider, settings.chosen_model) == ("offline", "rules-v1")


@pytest.mark.parametrize(
    ("environ", "provider"),
    [
        ({"GEMINI_API_KEY": "g" * 20}, "gemini"),
        ({"NVIDIA_API_KEY": "n" * 20}, "nim"),
        ({"OPENAI_API_KEY": "o" * 20}, "openai"),
        ({"OPENAI_API_KEY": "o" * 20, "HEALOPS_LLM_PROVIDER": "Offline"}, "offline"),
    ],
)
def test_the_first_provider_with_a_key_is_chosen_unless_one_is_named(environ: dict, provider: str) -> None:
    assert load_settings(environ).chosen_provider == provider


def test_google_api_key_wins_over_gemini_api_key_as_in_the_sdk() -> None:
    assert load_settings({"GEMINI_API_KEY": "a" * 20, "GOOGLE_API_KEY": "b" * 20}).gemini_api_key == "b" * 20


def test_nim_defaults_to_the_public_endpoint() -> None:
    assert load_settings({"NVIDIA_API_KEY": "n" * 20}).nim_base_url == NIM_BASE_URL


def test_keys_are_not_in_the_settings_repr() -> None:
    assert "secret-value-123" not in repr(load_settings({"OPENAI_API_KEY": "secret-value-123"}))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"HEALOPS_LLM_PROVIDER": "claude"}, "must be one of offline, gemini, nim, openai"),
        ({"HEALOPS_LLM_TIMEOUT_S": "soon"}, "HEALOPS_LLM_TIMEOUT_S must be a float"),
        ({"HEALOPS_LLM_RESPONSE_FORMAT": "xml"}, "json_schema, json_object"),
    ],
)
def test_bad_settings_are_named_with_what_is_accepted(environ: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_deployed_settings_come_from_ssm_with_keys_decrypted_and_the_environment_winning() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/hx/llm/provider", Value="openai", Type="String")
        ssm.put_parameter(Name="/hx/llm/model", Value="from-ssm", Type="String")
        ssm.put_parameter(Name="/hx/llm/openai_api_key", Value="sk-from-ssm-secure", Type="SecureString")
        ssm.put_parameter(Name="/hx/llm/openai_base_url", Value="http://127.0.0.1:9/v1", Type="String")
        environ = {"HEALOPS_LLM_PARAMETERS_PATH": "/hx/llm", "HEALOPS_LLM_MODEL": "from-env"}
        settings = load_settings(environ, ssm_client=ssm)
    assert settings.chosen_provider == "openai"
    assert settings.openai_api_key == "sk-from-ssm-secure"
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"
    assert settings.model == "from-env"


def test_an_unreachable_ssm_degrades_to_the_environment() -> None:
    ssm = boto3.client(
        "ssm",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    ssm.meta.config.retries = {"max_attempts": 0}
    settings = load_settings({"HEALOPS_LLM_PARAMETERS_PATH": "/hx/llm"}, ssm_client=ssm)
    assert settings.chosen_provider == "offline"
