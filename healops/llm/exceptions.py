"""Errors of the reasoner; each is caught by the facade, recorded, and answered by the offline reasoner."""

from __future__ import annotations


class LLMError(RuntimeError):
    """Base of every reasoner error."""


class ProviderError(LLMError):
    """The provider could not be reached or answered with an error (timeout, 429/5xx after retries, 4xx)."""


class DeadlineExceededError(ProviderError):
    """The provider had not answered when the plan's deadline came (what it answers later is ignored)."""


class ResponseRejectedError(LLMError):
    """The provider answered, but the answer is not a valid plan over the catalog."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class SettingsError(LLMError):
    """The LLM configuration names something unsupported, or lacks what the chosen provider needs."""
