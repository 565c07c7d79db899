"""Secrets out of log lines: the functions' (Powertools), the core's (stdlib logging) and the local tools'.

Three seams, each installed once by a process's setup, not called by the code that logs:

- :func:`function_logger`: the handlers' Powertools logger, whose formatter redacts every value of the JSON line
  (message, extra and appended keys, exception and stack) before it is serialized, so the line stays JSON;
- :func:`redact_root_log_handlers`: a filter on every handler of the root logger, where the core's
  ``logging.getLogger(__name__)`` lines (and botocore's) end: the Lambda runtime's handler in a function, the
  console in ``healops up``, the dashboard and the CLI;
- :func:`redact_errors`: a handler's exceptions leave with their messages redacted, since the runtime writes them
  to the function's log and Step Functions keeps them in the execution's history (a Catch puts them in the state
  the escalation's raw fallback publishes). Their type's name is kept: Retry and Catch match on it.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from healops.redaction import redact, redact_value

Redact = Callable[[str], str]
Handler = TypeVar("Handler", bound=Callable[..., Any])

# A LogRecord's own attributes; any other attribute came from ``extra=`` and is redacted like the message.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_EXCEPTION_FORMATTER = logging.Formatter()


class RedactingPowertoolsFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log line with every string value redacted."""

    def __init__(self, redactor: Redact = redact, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor

    def serialize(self, log: dict[str, Any]) -> str:
        # Through JSON first: values Powertools would print with str() (datetimes, exceptions) are redacted too.
        return super().serialize(redact_value(json.loads(super().serialize(log)), self.redactor))


class RedactingFilter(logging.Filter):
    """Redacts a record in place before its handler formats it: the message with its arguments, the exception's
    and the stack's text, and every ``extra`` value. Always lets the record through."""

    def __init__(self, redactor: Redact = redact) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redactor(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            # A Formatter uses exc_text when it is set: the traceback is formatted here, once, and redacted.
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES:
                setattr(record, name, redact_value(value, self.redactor))
        return True


def redact_root_log_handlers(redactor: Redact = redact) -> None:
    """Put a :class:`RedactingFilter` on every handler of the root logger and on logging's last resort (what
    prints when no handler is set), once each. Call it after the process's handlers are installed."""
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(redactor))


def function_logger(redactor: Redact = redact) -> Logger:
    """A handler's Powertools logger, redacting, with the runtime's root handlers made redacting too."""
    redact_root_log_handlers(redactor)
    return Logger(logger_formatter=RedactingPowertoolsFormatter(redactor))


def _redact_exception(exc: BaseException, redactor: Redact) -> None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the exception and what it was raised from
        seen.add(id(current))
        current.args = tuple(redactor(a) if isinstance(a, str) else a for a in current.args)
        current = current.__cause__ or current.__context__


def _stand_in(exc: BaseException, text: str) -> Exception:
    """An exception named as ``exc``'s type (the runtime reports the name; Step Functions matches it) whose message
    is ``text``."""
    kind = type(exc)
    return type(kind.__name__, (Exception,), {"__module__": kind.__module__, "__qualname__": kind.__qualname__})(text)


def redact_errors(handler: Handler, redactor: Redact = redact) -> Handler:
    """``handler``, raising what it raised with the messages (its own and its causes') redacted. An exception whose
    text is not built from its arguments (pydantic's ValidationError quotes the input; a batch's error lists its
    records' errors) and still holds a secret is replaced by a stand-in of the same name and the redacted text."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as exc:
            _redact_exception(exc, redactor)
            text = str(exc)
            if redactor(text) != text:
                raise _stand_in(exc, redactor(text)) from None
            raise

    return wrapped  # type: ignore[return-value]
