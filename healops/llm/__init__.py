"""Reasoning about incidents: a diagnosis and a ranked plan of catalog actions, with a full audit trail.

``plan_incident(context)`` is the entry point: it reads the settings (environment and SSM
``/<prefix>/llm/*``), asks the configured provider (Gemini through google-genai; NVIDIA NIM,
OpenAI or any OpenAI-compatible server through the openai SDK) once, validates the answer
against the catalog, and falls back to the offline reasoner whenever anything goes wrong.

- :mod:`.types`: the incident context and the plan (pydantic).
- :mod:`.settings`: configuration names and loading.
- :mod:`.prompt`, :mod:`.redaction`, :mod:`.validation`: what goes to a model and what comes back.
- :mod:`.providers`: the provider base, gemini, openai-compatible, offline.
- :mod:`.reasoner`: the facade; :mod:`.audit`: where its trail goes.
- :mod:`.deploy`: the settings as Terraform variables for ``healops up``.
"""

from __future__ import annotations

from healops.llm.audit import AuditTrail, DynamoAuditTrail, MemoryAuditTrail
from healops.llm.exceptions import LLMError, ProviderError, ResponseRejectedError, SettingsError
from healops.llm.reasoner import Reasoner, plan_incident
from healops.llm.settings import LLMSettings, load_settings
from healops.llm.types import (
    ActionSpec,
    Diagnosis,
    IncidentContext,
    LogExcerpt,
    MetricSummary,
    PastRemediation,
    PlanOutcome,
    ProposedAction,
    ReasonerPlan,
    SignalSummary,
)

__all__ = [
    "ActionSpec",
    "AuditTrail",
    "Diagnosis",
    "DynamoAuditTrail",
    "IncidentContext",
    "LLMError",
    "LLMSettings",
    "LogExcerpt",
    "MemoryAuditTrail",
    "MetricSummary",
    "PastRemediation",
    "PlanOutcome",
    "ProposedAction",
    "ProviderError",
    "Reasoner",
    "ReasonerPlan",
    "ResponseRejectedError",
    "SettingsError",
    "SignalSummary",
    "load_settings",
    "plan_incident",
]
