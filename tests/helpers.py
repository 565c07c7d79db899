"""Small helpers the tests share: polling, in-memory zips, queues."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
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
