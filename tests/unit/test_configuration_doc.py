"""docs/configuration.md is what scripts/configuration.py makes of the sources, and cannot drift from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]


configuration = load_script(REPO_ROOT / "scripts" / "configuration.py", "healops_configuration_doc")


def test_the_configuration_page_is_what_the_sources_say() -> None:
    assert (REPO_ROOT / "docs" / "configuration.md").read_text() == configuration.render(), (
        "docs/configuration.md is out of date: run `.venv/bin/python scripts/configuration.py`"
    )


def test_every_terraform_variable_and_policy_field_is_listed() -> None:
    page = (REPO_ROOT / "docs" / "configuration.md").read_text()
    for variable in configuration.terraform_variables():
        assert f"| `{variable.name}` |" in page
    for field in ("allowed_actions", "max_concurrent", "dry_run", "max_reopens"):
        assert f"| `{field}` |" in page


def test_a_new_terraform_variable_changes_the_page(tmp_path: Path) -> None:
    terraform = tmp_path / "terraform"
    shutil.copytree(REPO_ROOT / "terraform", terraform, ignore=shutil.ignore_patterns(".terraform*"))
    policy_defaults = Path("healops") / "remediation" / "default_policy.json"  # the policy variable's defaults file
    (tmp_path / policy_defaults).parent.mkdir(parents=True)
    shutil.copy(REPO_ROOT / policy_defaults, tmp_path / policy_defaults)
    with (terraform / "variables.tf").open("a") as handle:
        handle.write('\nvariable "brand_new" {\n  description = "A knob."\n  type = number\n  default = 7\n}\n')
    page = configuration.render(terraform_dir=terraform)
    assert "| `brand_new` | variables.tf | `number` | `7` | A knob. |" in page
    assert page != configuration.render()


def test_an_environment_variable_the_code_reads_without_a_description_is_an_error(tmp_path: Path) -> None:
    package = tmp_path / "healops"
    package.mkdir()
    (package / "knob.py").write_text('import os\nKNOB = os.environ.get("HEALOPS_BRAND_NEW_KNOB")\n')
    with pytest.raises(configuration.ConfigurationDocError, match="HEALOPS_BRAND_NEW_KNOB"):
        configuration.render(package_dir=package)


def test_a_description_of_a_variable_nobody_reads_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(configuration.USER_ENV, "HEALOPS_GONE", "a variable removed from the code")
    with pytest.raises(configuration.ConfigurationDocError, match="HEALOPS_GONE"):
        configuration.render()
