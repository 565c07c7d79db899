"""The provider base: one call, prompt in, raw text and token counts out; the facade does the rest.

A provider subclass implements :meth:`BaseProvider._complete` with its vendor's SDK; the base
turns every failure into :class:`ProviderError` (the facade then records it and falls back to
offline) and times the call.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Any

from healops.llm.exceptions import ProviderError
from healops.llm.prompt import Prompt
from healops.llm.types import WireAnswer


@dataclass(frozen=True)
class Completion:
    """A model's raw answer. Token counts are the provider's own, or None when it reports none."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: float = 0.0
    note: str = ""
    requests: int = 1


@dataclass(frozen=True)
class CallLimits:
    """Per-call bounds that fit the SDK's own timeout and retries inside what is left of a deadline."""

    timeout_s: float
    max_retries: int


@cache
def answer_schema() -> dict[str, Any]:
    """The JSON schema of :class:`WireAnswer`: strict (all fields required, no extra keys)."""
    return WireAnswer.model_json_schema()


class BaseProvider(ABC):
    """One LLM vendor behind one method."""

    name: str = ""

    def __init__(self, model: str) -> None:
        self.model = model

    def complete(self, prompt: Prompt, max_output_tokens: int, limits: CallLimits | None = None) -> Completion:
        """One call; ``limits`` (when given) replace the client's per-request timeout and retry count."""
        started = time.perf_counter()
        try:
            completion = self._complete(prompt, max_output_tokens, limits)
        except ProviderError:
            raise
        except Exception as exc:
            # SDK errors carry request details; the type and status are enough (keys never reach here).
            raise ProviderError(f"{self.name} call failed: {describe_sdk_error(exc)}") from exc
        latency_ms = (time.perf_counter() - started) * 1000
        return Completion(
            completion.text,
            completion.tokens_in,
            completion.tokens_out,
            latency_ms,
            completion.note,
            completion.requests,
        )

    @abstractmethod
    def _complete(self, prompt: Prompt, max_output_tokens: int, limits: CallLimits | None) -> Completion:
        """Call the model once (the SDK's own bounded retries included, within ``limits`` when given)."""


def describe_sdk_error(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None) or getattr(exc, "code", None)
    label = type(exc).__name__
    return f"{label} (HTTP {status})" if isinstance(status, int) else label
