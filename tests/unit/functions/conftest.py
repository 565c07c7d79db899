"""Load each handler module under its own name (every handler file is called app.py)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from healops import config
from tests.helpers import use_moto_credentials

REPO_ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = REPO_ROOT / "tests" / "events"


def load_handler(function: str) -> ModuleType:
    path = REPO_ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"handler_{function}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


@pytest.fixture
def event() -> Callable[[str], dict[str, Any]]:
    return load_event


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and a region; settings re-read from the environment for each test."""
    use_moto_credentials(monkeypatch)
    config.current.cache_clear()
    yield
    config.current.cache_clear()


# The planner function's engine on moto (tests/unit/llm/deployed.py), for tests/unit/functions/test_planner.py.
from tests.unit.llm.deployed import moto_stack  # noqa: E402, F401
