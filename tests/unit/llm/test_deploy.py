"""`healops up` carries the LLM settings into Terraform: plain ones in tfvars, keys only as TF_VAR_."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healops.deploy.errors import DeployError
from healops.deploy.stack import StackOptions, terraform_runner
from healops.llm.deploy import SECRET_VARIABLES, split_secrets, terraform_variables_from_env
from healops.llm.exceptions import SettingsError

ENVIRON = {
    "HEALOPS_LLM_PROVIDER": "OpenAI",
    "HEALOPS_LLM_MODEL": "llama3.1",
    "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
    "OPENAI_API_KEY": "sk-deploy-test-key-123456",
    "NVIDIA_API_KEY": "",
    "PATH": "/usr/bin",
}


def test_environment_maps_to_terraform_variables_leaving_unset_ones_out() -> None:
    assert terraform_variables_from_env(ENVIRON) == {
        "llm_provider": "openai",
        "llm_model": "llama3.1",
        "llm_openai_base_url": "http://127.0.0.1:11434/v1",
        "llm_openai_api_key": "sk-deploy-test-key-123456",
    }


def test_every_key_variable_is_secret() -> None:
    plain, secret = split_secrets(terraform_variables_from_env({**ENVIRON, "GEMINI_API_KEY": "g" * 20}))
    assert set(secret) == {"llm_openai_api_key", "llm_gemini_api_key"} <= SECRET_VARIABLES
    assert not any("key" in name for name in plain)


def test_an_unknown_provider_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="HEALOPS_LLM_PROVIDER must be one of"):
        terraform_variables_from_env({"HEALOPS_LLM_PROVIDER": "bard"})


def test_keys_reach_tflocal_only_through_its_environment(tmp_path: Path) -> None:
    source = tmp_path / "tf"
    source.mkdir()
    (source / "main.tf").write_text("")
    options = StackOptions(state_dir=tmp_path / "state", terraform_dir=source, environ=ENVIRON)
    runner = terraform_runner(options)
    runner.prepare(fresh_state=True)
    tfvars = json.loads((runner.work_dir / "healops.auto.tfvars.json").read_text())
    assert tfvars["llm_provider"] == "openai"
    assert "llm_openai_api_key" not in tfvars
    on_disk = "".join(p.read_text() for p in runner.work_dir.rglob("*") if p.is_file())
    assert "sk-deploy-test-key-123456" not in on_disk
    assert runner.env()["TF_VAR_llm_openai_api_key"] == "sk-deploy-test-key-123456"


def test_up_reports_a_bad_provider_as_a_deploy_error(tmp_path: Path) -> None:
    options = StackOptions(state_dir=tmp_path, environ={"HEALOPS_LLM_PROVIDER": "bard"})
    with pytest.raises(DeployError, match="HEALOPS_LLM_PROVIDER"):
        terraform_runner(options)
