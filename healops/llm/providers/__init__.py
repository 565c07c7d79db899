"""LLM providers behind :class:`~healops.llm.providers.base.BaseProvider`, and the offline reasoner."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from healops.llm.providers.base import BaseProvider, CallLimits, Completion
from healops.llm.providers.offline import OfflineReasoner

if TYPE_CHECKING:
    from healops.llm.providers.gemini import GenaiClient
    from healops.llm.providers.openai_compat import ChatClient
    from healops.llm.settings import LLMSettings

__all__ = [
    "BaseProvider",
    "CallLimits",
    "Completion",
    "MissingKeyError",
    "OfflineReasoner",
    "cached_provider",
    "make_provider",
]


class MissingKeyError(LookupError):
    """The chosen provider needs a key and none is configured."""


def make_provider(
    settings: LLMSettings, gemini_client: GenaiClient | None = None, chat_client: ChatClient | None = None
) -> BaseProvider | None:
    """The provider ``settings`` choose (None for offline); SDKs are imported only when used."""
    chosen = settings.chosen_provider
    if chosen == "offline":
        return None
    if chosen == "gemini":
        from healops.llm.providers.gemini import GeminiProvider

        if gemini_client is None and not settings.gemini_api_key:
            raise MissingKeyError("gemini needs GEMINI_API_KEY (or GOOGLE_API_KEY)")
        return GeminiProvider.from_settings(settings, gemini_client)
    from healops.llm.providers.openai_compat import OpenAICompatibleProvider

    if chosen == "nim" and chat_client is None and not settings.nvidia_api_key:
        raise MissingKeyError("nim needs NVIDIA_API_KEY")
    if chosen == "openai" and chat_client is None and not (settings.openai_api_key or settings.openai_base_url):
        raise MissingKeyError("openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a server without keys)")
    return OpenAICompatibleProvider.from_settings(settings, chat_client)


@lru_cache(maxsize=4)
def cached_provider(settings: LLMSettings) -> BaseProvider | None:
    """One provider (and SDK client, with its connection pool) per settings, reused by a warm process."""
    return make_provider(settings)
