"""Gemini through google-genai, with structured output (a response schema).

google-genai does not retry unless asked: :class:`HttpRetryOptions` bounds attempts and backoff
(408/429/5xx and timeouts). A schema mismatch is no exception there (``parsed`` is None); the
facade validates the raw text itself either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from healops.llm.providers.base import BaseProvider, CallLimits, Completion
from healops.llm.types import WireAnswer

if TYPE_CHECKING:
    from healops.llm.prompt import Prompt
    from healops.llm.settings import LLMSettings


class GenaiModels(Protocol):
    def generate_content(self, *, model: str, contents: Any, config: Any = None) -> Any: ...


class GenaiClient(Protocol):
    """The part of ``google.genai.Client`` the provider uses."""

    @property
    def models(self) -> GenaiModels: ...


# Backoff between attempts (google-genai's HttpRetryOptions; it ignores Retry-After).
INITIAL_DELAY_S = 0.5
MAX_DELAY_S = 4.0


def _retry_options(max_retries: int) -> Any:
    from google.genai import types

    return types.HttpRetryOptions(attempts=max_retries + 1, initial_delay=INITIAL_DELAY_S, max_delay=MAX_DELAY_S)


def build_client(settings: LLMSettings) -> GenaiClient:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        api_version="v1beta",
        timeout=int(settings.timeout_s * 1000),
        retry_options=_retry_options(settings.max_retries),
        **({"base_url": settings.gemini_base_url} if settings.gemini_base_url else {}),
    )
    return genai.Client(api_key=settings.gemini_api_key, http_options=options)


class GeminiProvider(BaseProvider):
    name = "gemini"

    def __init__(self, model: str, client: GenaiClient) -> None:
        super().__init__(model)
        self.client = client

    @classmethod
    def from_settings(cls, settings: LLMSettings, client: GenaiClient | None = None) -> GeminiProvider:
        return cls(settings.chosen_model, client if client is not None else build_client(settings))

    def _complete(self, prompt: Prompt, max_output_tokens: int, limits: CallLimits | None) -> Completion:
        from google.genai import types

        # Per-request options override the client's (google-genai supports per-request retry options).
        per_request = (
            {
                "http_options": types.HttpOptions(
                    timeout=max(1, int(limits.timeout_s * 1000)), retry_options=_retry_options(limits.max_retries)
                )
            }
            if limits is not None
            else {}
        )
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_schema=WireAnswer,
            max_output_tokens=max_output_tokens,
            temperature=0.0,
            **per_request,
        )
        response = self.client.models.generate_content(model=self.model, contents=prompt.user, config=config)
        usage = response.usage_metadata
        note = "" if response.parsed is not None else "the SDK could not parse the answer against the schema"
        return Completion(
            text=response.text or "",
            tokens_in=getattr(usage, "prompt_token_count", None),
            tokens_out=getattr(usage, "candidates_token_count", None),
            note=note,
        )
