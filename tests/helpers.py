"""Small helpers the tests share: polling, in-memory zips, queues."""

from __future__ import annotations

import http.client
import importlib.util
import io
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, what: str = "", interval: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something truthy, and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or 'the condition'}; last answer: {last!r}")


def zipped(files: dict[str, str]) -> bytes:
    """A zip archive holding ``files`` (name → text), as Lambda's ``Code.ZipFile`` takes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_queue(client: Callable[[str], Any], name: str, **attributes: str) -> tuple[str, str]:
    """Create an SQS queue through ``client("sqs")``; returns (url, arn)."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def use_moto_credentials(monkeypatch: pytest.MonkeyPatch, region: str = "us-east-1") -> None:
    """An environment for moto's in-process mocks: no endpoint or profile of the machine, dummy keys, a region."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def raw_request(
    port: int, method: str, path: str, headers: dict[str, str], body: str = "", host: str | None = None
) -> tuple[int, dict[str, str], str]:
    """One HTTP request to 127.0.0.1:``port`` with exactly these headers (``host``: the Host header, the endpoint's
    own by default), as a browser or an attacker would send it; the status, headers (lower-cased) and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"127.0.0.1:{port}")
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body.encode())))
        conn.endheaders(body.encode())
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


def load_script(path: Path, module_name: str) -> ModuleType:
    """A file under scripts/ as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module
