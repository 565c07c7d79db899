"""Real-browser tests: Debian's chromium through Playwright (never `playwright install`: it downloads)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healops.dashboard import create_app
from healops.local.server import EmbeddedCloud
from tests.dashboard_support import DashboardStack, deploy, start_cloud

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "browser-test-token"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    return {**browser_type_launch_args, "executable_path": chromium, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    embedded = start_cloud(tmp_path_factory.mktemp("browser-cloud"))
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture(scope="module")
def stack(cloud: EmbeddedCloud) -> DashboardStack:
    return deploy(cloud.endpoint_url)


@pytest.fixture(scope="module")
def dashboard_url(stack: DashboardStack) -> Iterator[str]:
    from werkzeug.serving import make_server

    app = create_app({"RESOURCES": stack.resources, "WRITE_TOKEN": TOKEN, "LIVE_REFRESH_MS": 500})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    path = Path(__file__).resolve().parents[2] / "build" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
