"""Secrets out of what Heal-Ops sends to a queue, a topic, a bucket or a state machine: the seam is the client.

:func:`redacting` registers on a boto3 client one botocore handler that redacts the parameters of its writes
before they are serialized, so no caller can send a secret by forgetting to redact, and no field escapes because
nobody thought it was free text (the rule every table's repository keeps, :mod:`healops.store.base`):

- SQS ``SendMessage`` / ``SendMessageBatch``: the body (a JSON body value by value, so it stays JSON) and every
  string attribute;
- SNS ``Publish`` / ``PublishBatch``: the subject, the message (per protocol with ``MessageStructure=json``) and
  every string attribute;
- S3 ``PutObject``: a JSON, JSON Lines or text body (JSON value by value) and the user metadata; any other body is
  refused, naming what is accepted, since bytes that cannot be read cannot be checked;
- Step Functions ``StartExecution`` input, ``SendTaskSuccess`` output and ``SendTaskFailure`` cause (the execution's
  history keeps them, and the escalation's raw fallback publishes the state);
- CloudWatch Logs ``PutLogEvents``: every message.

Kept verbatim, because the receiver needs them exactly: task tokens (Step Functions matches them), the error
name of ``SendTaskFailure`` (the state machine's Catch matches it), names, keys, URLs and ARNs of the resources
written. Other operations pass untouched, so a client for reads and writes alike can be wrapped.

The simulated fleet's own telemetry (its service logs and their hourly archives) is the workload's data, not
Heal-Ops' records: the metrics generator writes it with plain clients, as a real workload writes its own logs, and
Heal-Ops redacts what it reads of it before storing, showing or prompting with it (docs/security.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from typing import Any

from healops.redaction import redact, redact_value

Redact = Callable[[str], str]

# Bodies of these content types are read and redacted; anything else is refused.
JSON_TYPES = frozenset({"application/json"})
JSON_LINES_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})


class UnredactableWriteError(ValueError):
    """A write through a redacting client carries something that cannot be read, so cannot be redacted."""


def redact_text_or_json(text: str, redactor: Redact = redact) -> str:
    """``text`` redacted; a JSON document value by value (redacting its text could cut across two values and break
    it), returned unchanged when nothing in it was a secret."""
    try:
        document = json.loads(text)
    except ValueError:
        return redactor(text)
    redacted = redact_value(document, redactor)
    if redacted == document:
        return text
    return json.dumps(redacted, separators=(",", ":"), ensure_ascii=False)


def _redact_fields(params: MutableMapping[str, Any], names: tuple[str, ...], redactor: Redact) -> None:
    for name in names:
        if isinstance(params.get(name), str):
            params[name] = redact_text_or_json(params[name], redactor)


def _redact_attributes(attributes: Any, redactor: Redact) -> None:
    # SQS and SNS message attributes: {name: {"DataType": ..., "StringValue": ...}}; binary values are opaque.
    for attribute in (attributes or {}).values():
        if isinstance(attribute, dict) and isinstance(attribute.get("StringValue"), str):
            attribute["StringValue"] = redactor(attribute["StringValue"])


def _sqs_message(message: MutableMapping[str, Any], redactor: Redact) -> None:
    _redact_fields(message, ("MessageBody",), redactor)
    _redact_attributes(message.get("MessageAttributes"), redactor)


def _sns_message(message: MutableMapping[str, Any], redactor: Redact) -> None:
    if isinstance(message.get("Subject"), str):
        message["Subject"] = redactor(message["Subject"])
    _redact_fields(message, ("Message",), redactor)
    _redact_attributes(message.get("MessageAttributes"), redactor)


def _s3_body(params: MutableMapping[str, Any], redactor: Redact) -> None:
    if params.get("Metadata"):
        params["Metadata"] = {k: redactor(v) for k, v in params["Metadata"].items()}
    body = params.get("Body")
    if body is None:
        return
    bucket, key = params.get("Bucket"), params.get("Key")
    content_type = str(params.get("ContentType", "")).split(";")[0].strip().lower()
    is_json, is_lines = content_type in JSON_TYPES, content_type in JSON_LINES_TYPES
    if not (is_json or is_lines or content_type.startswith("text/")) or params.get("ContentEncoding"):
        raise UnredactableWriteError(
            f"s3://{bucket}/{key}: a redacting client cannot check a body of content type {content_type or 'none'!r}"
            f"{' encoded ' + repr(params['ContentEncoding']) if params.get('ContentEncoding') else ''}; accepted are "
            "application/json, application/x-ndjson and text/*, not encoded (write other bodies with a plain client "
            "only if they are not Heal-Ops' records)"
        )
    if not isinstance(body, str | bytes | bytearray):
        raise UnredactableWriteError(
            f"s3://{bucket}/{key}: a redacting client needs the body as str or bytes, got {type(body).__name__}"
        )
    try:
        text = body if isinstance(body, str) else bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise UnredactableWriteError(
            f"s3://{bucket}/{key}: the body is declared {content_type!r} but is not UTF-8 text"
        ) from None
    if is_lines:
        redacted = "".join(redact_text_or_json(line, redactor) + "\n" for line in text.splitlines())
    else:
        redacted = redact_text_or_json(text, redactor) if is_json else redactor(text)
    params["Body"] = redacted.encode("utf-8")


def _start_execution(params: MutableMapping[str, Any], redactor: Redact) -> None:
    _redact_fields(params, ("input",), redactor)


def _send_task_success(params: MutableMapping[str, Any], redactor: Redact) -> None:
    _redact_fields(params, ("output",), redactor)  # taskToken: Step Functions matches it verbatim


def _send_task_failure(params: MutableMapping[str, Any], redactor: Redact) -> None:
    # "error" stays: it is the name the state machine's Catch matches (Remediation.Denied and the like).
    _redact_fields(params, ("cause",), redactor)


def _put_log_events(params: MutableMapping[str, Any], redactor: Redact) -> None:
    for event in params.get("logEvents") or []:
        if isinstance(event.get("message"), str):
            event["message"] = redactor(event["message"])


def _each(entries_name: str, redact_one: Callable[[MutableMapping[str, Any], Redact], None]) -> Any:
    def redact_all(params: MutableMapping[str, Any], redactor: Redact) -> None:
        for entry in params.get(entries_name) or []:
            redact_one(entry, redactor)

    return redact_all


# botocore's event names: before-parameter-build.<service id, hyphenated>.<operation>.
WRITES: dict[str, Callable[[MutableMapping[str, Any], Redact], None]] = {
    "sqs.SendMessage": _sqs_message,
    "sqs.SendMessageBatch": _each("Entries", _sqs_message),
    "sns.Publish": _sns_message,
    "sns.PublishBatch": _each("PublishBatchRequestEntries", _sns_message),
    "s3.PutObject": _s3_body,
    "sfn.StartExecution": _start_execution,
    "sfn.SendTaskSuccess": _send_task_success,
    "sfn.SendTaskFailure": _send_task_failure,
    "cloudwatch-logs.PutLogEvents": _put_log_events,
}


def redacting(client: Any, redactor: Redact = redact) -> Any:
    """``client`` (returned, for chaining) with the parameters of its writes redacted before every call (see the
    module's docstring for which); registering twice on one client redacts once."""
    events = client.meta.events
    for operation, redact_params in WRITES.items():

        def handler(params: MutableMapping[str, Any], _redact: Any = redact_params, **_: Any) -> None:
            _redact(params, redactor)

        # One unique id per operation: a second registration replaces the first instead of adding a second pass.
        events.register(f"before-parameter-build.{operation}", handler, unique_id=f"healops-redact-{operation}")
    return client
