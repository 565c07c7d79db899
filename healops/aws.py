"""boto3 clients for code that runs outside a function: the CLI, the dashboard, tests, benchmarks.

A local endpoint (the embedded cloud or LocalStack) is reached through ``localstack-client``,
which honours ``AWS_ENDPOINT_URL`` and ``LOCALSTACK_HOST``; with neither set and no endpoint
given, clients go to AWS with the normal credential chain. Inside functions, plain boto3 reads
``AWS_ENDPOINT_URL`` itself.
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
    if endpoint_url:
        return boto3.client(
            service,
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=cfg,
        )
    from localstack_client.session import Session

    session = Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=region)
    return session.client(service, config=cfg)
