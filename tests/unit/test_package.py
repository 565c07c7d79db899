"""scripts/package.py: reproducible, minimal, complete Lambda zips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.helpers import load_script

# Builds and import-checks the function zips: outside the fast subset (make test-fast).
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


package = load_script(REPO_ROOT / "scripts" / "package.py", "healops_package_script")


@pytest.fixture(scope="module")
def remediator_zip(tmp_path_factory) -> Path:
    return package.build("remediator", tmp_path_factory.mktemp("build")).path


def test_two_builds_are_byte_identical(remediator_zip, tmp_path):
    again = package.build("remediator", tmp_path, check=False)

    assert again.rebuilt
    assert again.path.read_bytes() == remediator_zip.read_bytes()


def test_zip_holds_the_handler_healops_and_runtime_deps_but_not_what_lambda_provides(remediator_zip):
    with zipfile.ZipFile(remediator_zip) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    tops = {name.split("/")[0] for name in names}

    assert "app.py" in names
    assert {"healops", "pydantic", "pydantic_core", "aws_lambda_powertools", "typing_extensions.py"} <= tops
    assert not tops & {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py", "moto"}
    assert "healops/local/__init__.py" not in names  # the embedded cloud never runs inside Lambda
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert names == sorted(names)
    assert {(i.date_time, i.external_attr >> 16) for i in infos} == {((1980, 1, 1, 0, 0, 0), 0o100644)}


def test_only_what_the_handler_imports_from_healops_is_vendored(remediator_zip):
    with zipfile.ZipFile(remediator_zip) as archive:
        vendored = sorted(n for n in archive.namelist() if n.startswith("healops/"))

    assert "healops/config.py" in vendored
    assert "healops/models/incident.py" in vendored
    assert "healops/remediation/engine.py" in vendored
    # Only what the handler's imports reach: never the embedded cloud, the detectors or the benchmarks.
    assert not [n for n in vendored if n.startswith(("healops/local/", "healops/detection/", "healops/bench/"))]


def test_only_the_planner_and_the_remediator_carry_the_llm_sdks_and_every_zip_imports(remediator_zip, tmp_path):
    planner_zip = package.build("planner", tmp_path).path  # import-checked too
    for built_zip in (planner_zip, remediator_zip):
        with zipfile.ZipFile(built_zip) as archive:
            assert {"openai", "google", "jsonschema"} <= {n.split("/")[0] for n in archive.namelist()}, built_zip
    for function in ("detector", "injector", "metrics_generator", "notifier"):
        built = package.build(function, tmp_path)  # import-checked with only the zip on the path
        with zipfile.ZipFile(built.path) as archive:
            tops = {n.split("/")[0] for n in archive.namelist()}
        assert {"pydantic", "aws_lambda_powertools"} <= tops, function
        assert not tops & {"openai", "google", "jsonschema", "httpx2", "cryptography"}, (function, tops)
        assert built.size < remediator_zip.stat().st_size / 3, (function, built.size)


def test_zip_is_rewritten_only_when_the_code_changes(tmp_path, monkeypatch):
    functions = tmp_path / "functions"
    (functions / "probe").mkdir(parents=True)
    handler = functions / "probe" / "app.py"
    handler.write_text("from healops import config\n\ndef handler(event, context):\n    return 1\n")
    monkeypatch.setattr(package, "FUNCTIONS_DIR", functions)
    out = tmp_path / "build"

    first = package.build("probe", out, check=False)
    unchanged = package.build("probe", out, check=False)
    handler.write_text(handler.read_text().replace("return 1", "return 2"))
    changed = package.build("probe", out, check=False)

    assert first.rebuilt and not unchanged.rebuilt and changed.rebuilt
    assert unchanged.sha256 == first.sha256
    assert changed.sha256 != first.sha256


def test_import_check_catches_a_missing_dependency(tmp_path):
    # Without pydantic in the closure, the remediator's `import app` must fail in isolation.
    with pytest.raises(package.PackagingError, match="pydantic"):
        package.build("remediator", tmp_path, requirements=("aws-lambda-powertools",))
    assert not (tmp_path / "remediator.zip").exists()


def test_unknown_function_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(package.PackagingError, match="detector"):
        package.build("no_such_function", tmp_path)
