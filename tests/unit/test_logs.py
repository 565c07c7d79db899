"""The log seams (healops/logs.py) on the redaction corpus: a Powertools logger, a stdlib handler, a raised error."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from healops.logs import RedactingFilter, RedactingPowertoolsFormatter, redact_errors, redact_root_log_handlers
from healops.redaction import MASK

CORPUS = json.loads((Path(__file__).parent.parent / "data" / "redaction_corpus.json").read_text())
SECRETS = CORPUS["secrets"]


def leaked(text: str) -> list[str]:
    return [c["shape"] for c in SECRETS if c["secret"] in text]


@pytest.fixture
def powertools_lines() -> Iterator[tuple[Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = Logger(
        service=f"test-redaction-{id(stream)}",
        logger_formatter=RedactingPowertoolsFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )
    yield logger, stream


def test_a_powertools_line_is_masked_in_every_key_and_stays_json(powertools_lines: tuple[Logger, Any]) -> None:
    logger, stream = powertools_lines
    logger.append_keys(operator=SECRETS[0]["text"])
    for case in SECRETS:
        try:
            raise ValueError(f"could not parse {case['text']}")
        except ValueError:
            logger.exception("request %s", case["text"], extra={"reason": case["text"], "nested": [case["text"]]})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == len(SECRETS)
    assert all(MASK in line["reason"] and line["exception_name"] == "ValueError" for line in lines)
    assert not leaked(stream.getvalue()) and not leaked(json.dumps([str(v) for x in lines for v in x.values()]))


def test_a_stdlib_line_is_masked_in_its_message_arguments_extras_and_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(reason)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("healops.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for case in SECRETS:
            try:
                raise RuntimeError(case["text"])
            except RuntimeError:
                logger.error("failed on %s", case["text"], exc_info=True, extra={"reason": {"why": case["text"]}})
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().count("Traceback") == len(SECRETS) and MASK in stream.getvalue()
    assert not leaked(stream.getvalue())


def test_the_root_handlers_get_the_filter_once(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = logging.StreamHandler(io.StringIO())
    monkeypatch.setattr(logging.getLogger(), "handlers", [handler])
    redact_root_log_handlers()
    redact_root_log_handlers()
    assert [type(f) for f in handler.filters] == [RedactingFilter]
    assert any(isinstance(f, RedactingFilter) for f in logging.lastResort.filters)


class ParseError(ValueError):
    pass


def test_a_raised_error_keeps_its_type_and_loses_its_secrets() -> None:
    case = next(c for c in SECRETS if "\n" not in c["text"])

    @redact_errors
    def handler(event: dict[str, Any], context: Any) -> None:
        try:
            raise KeyError(event["text"])
        except KeyError as exc:
            raise ParseError(f"bad request {event['text']}", 400) from exc

    with pytest.raises(ParseError) as raised:
        handler({"text": case["text"]}, None)
    assert MASK in str(raised.value) and raised.value.args[1] == 400
    assert not leaked(str(raised.value)) and not leaked(str(raised.value.__cause__))


def test_an_error_whose_text_quotes_its_input_leaves_as_a_stand_in_of_the_same_name() -> None:
    """pydantic's ValidationError prints the input it refused, not its arguments."""
    from pydantic import BaseModel, Field, ValidationError

    class Incident(BaseModel):
        service: str = Field(pattern=r"^[a-z-]+$")

    # A secret recognisable without its context: pydantic cuts a long input in its middle, which can part a value
    # from the name that makes it a secret (such a value survives: docs/security.md).
    from healops.redaction import redact

    case = next(c for c in SECRETS if len(c["text"]) < 40 and redact(c["secret"]) != c["secret"])

    @redact_errors
    def handler(event: dict[str, Any], context: Any) -> None:
        Incident.model_validate(event)

    with pytest.raises(Exception) as raised:
        handler({"service": case["text"]}, None)
    assert type(raised.value).__name__ == "ValidationError" and not isinstance(raised.value, ValidationError)
    assert "string_pattern_mismatch" in str(raised.value) and not leaked(str(raised.value))
    with pytest.raises(ValidationError):  # nothing to redact: the error itself, catchable as such
        handler({"service": "Not A Service"}, None)
