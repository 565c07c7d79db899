"""Fixtures shared by every test: boto3 clients for an embedded endpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"
# Folders whose every test needs an embedded cloud, the applied Terraform or a browser: outside the fast subset.
SLOW_FOLDERS = frozenset(Path(__file__).resolve().parent / name for name in ("integration", "e2e", "browser"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of SLOW_FOLDERS ``slow``, so ``pytest -m "not slow"`` (make test-fast) runs only unit tests."""
    for item in items:
        if SLOW_FOLDERS.intersection(item.path.resolve().parents):
            item.add_marker(pytest.mark.slow)
    # The chaos bench's wave goes last on the session stack: the crash it leaves on search-2 can keep that service's
    # detector episode open for minutes (reopened after verified fixes: an open defect, docs/lab-notes.md), and an
    # incident the detector opens there afterwards (tests/e2e/test_llm_provider.py) would join it.
    items.sort(key=lambda item: item.path.name == "test_chaos_bench.py")


def make_client(endpoint_url: str, service: str, **config: Any) -> Any:
    """A boto3 client for ``service`` at ``endpoint_url`` with dummy credentials."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture
def client_for() -> Callable[..., Any]:
    return make_client
