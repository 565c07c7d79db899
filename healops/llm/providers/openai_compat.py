"""OpenAI-compatible chat completions through the openai SDK: OpenAI, NVIDIA NIM, vLLM, Ollama.

Structured output first (``response_format`` ``json_schema``, strict); a server that refuses it
with a 400 is asked again once in JSON mode (``json_object``), and that provider instance uses
JSON mode from then on. The SDK retries 408/409/429/5xx and timeouts itself, honouring
``Retry-After``, up to ``max_retries``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from healops.llm.providers.base import BaseProvider, CallLimits, Completion, answer_schema

if TYPE_CHECKING:
    from healops.llm.prompt import Prompt
    from healops.llm.settings import LLMSettings


class ChatClient(Protocol):
    """The part of ``openai.OpenAI`` the provider uses: ``client.chat.completions.create``."""

    @property
    def chat(self) -> Any: ...


# A self-hosted server without authentication still needs a non-empty key in the SDK.
NO_KEY = "no-key"


def build_client(api_key: str, base_url: str | None, settings: LLMSettings) -> ChatClient:
    from openai import OpenAI

    return OpenAI(
        api_key=api_key or NO_KEY,
        base_url=base_url or None,
        max_retries=settings.max_retries,
        timeout=settings.timeout_s,
    )


class OpenAICompatibleProvider(BaseProvider):
    name = "openai"

    def __init__(self, model: str, client: ChatClient, response_format: str = "json_schema", name: str = "openai"):
        super().__init__(model)
        self.client = client
        self.response_format = response_format
        self.name = name

    @classmethod
    def from_settings(cls, settings: LLMSettings, client: ChatClient | None = None) -> OpenAICompatibleProvider:
        if settings.chosen_provider == "nim":
            key, base_url = settings.nvidia_api_key, settings.nim_base_url
        else:
            key, base_url = settings.openai_api_key, settings.openai_base_url
        client = client if client is not None else build_client(key, base_url, settings)
        return cls(settings.chosen_model, client, settings.response_format, name=settings.chosen_provider)

    def _format(self) -> dict[str, Any]:
        if self.response_format == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {"name": "incident_plan", "strict": True, "schema": answer_schema()},
        }

    def _client_within(self, limits: CallLimits | None) -> ChatClient:
        """The client with ``limits`` as its per-request timeout and retries (``with_options`` shares its pool)."""
        with_options = getattr(self.client, "with_options", None)
        if limits is None or with_options is None:
            return self.client
        return with_options(timeout=limits.timeout_s, max_retries=limits.max_retries)

    def _create(self, client: ChatClient, prompt: Prompt, max_output_tokens: int) -> Any:
        return client.chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}],
            response_format=self._format(),
            max_tokens=max_output_tokens,
            temperature=0.0,
        )

    def _complete(self, prompt: Prompt, max_output_tokens: int, limits: CallLimits | None) -> Completion:
        from openai import BadRequestError

        client = self._client_within(limits)
        note, requests = "", 1
        try:
            response = self._create(client, prompt, max_output_tokens)
        except BadRequestError as exc:
            if self.response_format != "json_schema" or "response_format" not in str(exc):
                raise
            self.response_format = "json_object"
            note, requests = "the server refused json_schema; asked again in JSON mode", 2
            response = self._create(client, prompt, max_output_tokens)
        usage = getattr(response, "usage", None)
        text = response.choices[0].message.content if response.choices else ""
        return Completion(
            text=text or "",
            tokens_in=getattr(usage, "prompt_tokens", None),
            tokens_out=getattr(usage, "completion_tokens", None),
            note=note,
            requests=requests,
        )
