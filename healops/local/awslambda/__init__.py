"""The embedded Lambda runtime: moto's functions run their real handlers, no Docker.

moto reaches a handler only through ``LambdaFunction.invoke`` / ``_invoke_lambda``; both are
replaced, and so is the echoing ``LambdaSimpleBackend.invoke`` that moto serves when
``use_docker`` is off. Direct invokes, Step Functions Lambda tasks (moto's ASL interpreter
calls the endpoint over HTTP) and event source mappings all end here.

Supported:
- Zip packages of ``python3.x`` functions, run on this environment's interpreter. The zip is
  unpacked once per code version into ``<state_dir>/lambda/<function>/<code sha>/``.
- Warm workers: up to ``workers_per_function`` (default 2) processes per function version,
  each serving one invocation at a time; different functions run in parallel. A worker is
  replaced when the code sha, handler, runtime, timeout, memory size or environment changes.
- Isolation like AWS: each worker is ``python -I -S worker.py``; its ``sys.path`` is the code
  folder, then a folder of links to what the AWS Python runtime provides (boto3, botocore,
  s3transfer, jmespath, dateutil, urllib3, six), then the standard library. Anything else the
  zip must vendor. The environment is the function's variables plus what Lambda sets
  (``AWS_LAMBDA_*``, ``_HANDLER``, ``AWS_REGION``, dummy credentials, ``AWS_ENDPOINT_URL``
  pointing at this endpoint), nothing inherited but ``PATH``.
- ``context`` with ``function_name``, ``function_version``, ``invoked_function_arn``,
  ``memory_limit_in_mb``, ``aws_request_id``, ``log_group_name``, ``log_stream_name``,
  ``get_remaining_time_in_millis()``; the root logger prints AWS's tab-separated lines.
- Errors in AWS's shapes, with ``X-Amz-Function-Error: Unhandled``: handler exceptions
  (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``; the worker survives),
  ``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ``Runtime.MalformedHandlerName``,
  ``Runtime.UserCodeSyntaxError``, ``Runtime.MarshalError`` (result not JSON-serialisable),
  ``Sandbox.Timedout`` (the function's Timeout in real seconds; the worker is killed and the
  next invoke starts a fresh one) and ``Runtime.ExitError`` (the process died).
- Logs: START / the handler's stdout and stderr lines / END / REPORT (Duration, Billed
  Duration, Memory Size, Max Memory Used, Init Duration on a cold start) in
  ``/aws/lambda/<name>`` (created if missing), one stream per worker named
  ``YYYY/MM/DD/[$LATEST]<hex>``; ``LogType=Tail`` returns the last 4 KB.
- ``InvocationType=Event`` is queued (a few threads) and answered 202 at once; ``DryRun`` 204.
- :func:`last_invocations` and ``GET /_healops/lambda/invocations``: per function, when it last
  ran, how it ended, counts (see :mod:`healops.local.routes` for the route hook).

Limits: memory size is reported, not enforced; async invocations are not retried and have no
destinations or DLQ; layers, container images, other languages, SnapStart, function URLs and
response streaming are not supported; workers of deleted functions stay until ``stop()``;
output a handler's background threads write between invocations is attributed to the next one.
"""

from __future__ import annotations

from healops.local.awslambda.models import LambdaRuntime, last_invocations

__all__ = ["LambdaRuntime", "last_invocations"]
