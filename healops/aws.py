"""boto3 clients for code that runs outside a function: the CLI, the dashboard, tests, benchmarks.

A local endpoint (the embedded cloud or LocalStack) is the one given, else ``AWS_ENDPOINT_URL``, else
``http://$LOCALSTACK_HOST`` (LocalStack's own variable, ``host[:port]``, port 4566 by default); local clients
get LocalStack's dummy credentials. With none of them, clients go to AWS with the normal credential chain.
Inside functions, plain boto3 reads ``AWS_ENDPOINT_URL`` itself. (``localstack-client`` did the same for the
two variables; boto3 reading ``AWS_ENDPOINT_URL`` made it one dependency too many.)
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"


def is_local(endpoint_url: str | None = None) -> bool:
    return bool(endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("LOCALSTACK_HOST"))


def client(
    service: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    max_attempts: int = 3,
    **config: Any,
) -> Any:
    """A client for ``service``: local when an endpoint is given or configured, AWS otherwise.

    ``max_attempts`` bounds botocore's standard retries (1: none, as benchmarks want); ``config``
    goes to botocore's ``Config`` (timeouts, pool size)."""
    region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    cfg = Config(retries={"max_attempts": max_attempts, "mode": "standard"}, **config)
    if not is_local(endpoint_url):
        return boto3.client(service, region_name=region, config=cfg)
    return boto3.client(
        service,
        endpoint_url=endpoint_url or local_endpoint(),
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


def local_endpoint() -> str | None:
    """``AWS_ENDPOINT_URL``, else LocalStack's ``LOCALSTACK_HOST`` (``host[:port]``) as a URL, else None."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        return os.environ["AWS_ENDPOINT_URL"]
    host = os.environ.get("LOCALSTACK_HOST")
    if not host:
        return None
    return f"http://{host}" if ":" in host else f"http://{host}:4566"
