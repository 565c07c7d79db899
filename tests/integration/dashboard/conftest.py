"""One in-process embedded cloud per module; each test gets its own stack (a unique name prefix)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from healops.dashboard import create_app
from healops.local.server import EmbeddedCloud
from tests.dashboard_support import DashboardStack, deploy, start_cloud

TOKEN = "test-write-token"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    embedded = start_cloud(tmp_path_factory.mktemp("dashboard-cloud"))
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture
def stack(cloud: EmbeddedCloud) -> DashboardStack:
    return deploy(cloud.endpoint_url)


@pytest.fixture
def app(stack: DashboardStack) -> Flask:
    return create_app({"TESTING": True, "RESOURCES": stack.resources, "WRITE_TOKEN": TOKEN})


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()
