"""The planner function as deployed, on moto: Terraform's tables, the fleet seeded, the services' log groups,
and the engine from ``healops.remediation.wiring.build_planner`` (the LLM settings from the environment, as a test sets
them). Metrics are left empty: the planner reads them through CloudWatch and finds none."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healops import config
from healops.deploy.tables import create_tables
from healops.fleet.definition import expand, load_definition
from healops.llm.providers import cached_provider
from healops.llm.settings import ENV_NAMES, PARAMETERS_PATH_ENV
from healops.models.fleet import ServiceState
from healops.models.incident import IncidentMessage
from healops.remediation.engine import Remediation
from healops.remediation.wiring import build_planner
from healops.store.fleet import FleetRepository
from healops.store.incidents import IncidentRecord, IncidentsRepository
from healops.store.llm_actions import LlmActionsRepository, LlmCallRecord
from tests.helpers import use_moto_credentials

TABLES = ("incidents", "remediations", "agent_decisions", "llm_actions", "fleet", "injections", "idempotency")
FLEET_SIZE = 8
LOG_GROUP_PREFIX = "/healops/services"


@dataclass
class MotoStack:
    dynamodb: Any
    logs: Any
    settings: config.Settings

    def engine(self) -> Remediation:
        return build_planner(self.settings)

    def fleet(self) -> FleetRepository:
        return FleetRepository("fleet", self.dynamodb)

    def set_previous_version(self, service: str) -> None:
        """Give ``service`` a version to roll back to (a deploy happened)."""
        state = self.fleet().get(service)
        assert state is not None
        self.fleet().replace(state.model_copy(update={"previous_version": "v0.9.0"}), state.record_version)

    def write_logs(self, service: str, records: list[Mapping[str, Any] | str], at: float | None = None) -> None:
        """Put log events in the service's group as the fleet writes them (JSON records) or as raw text."""
        stamp = int((at if at is not None else time.time()) * 1000)
        events = [
            {"timestamp": stamp + i, "message": r if isinstance(r, str) else json.dumps(r, separators=(",", ":"))}
            for i, r in enumerate(records)
        ]
        group = f"{LOG_GROUP_PREFIX}/{service}"
        self.logs.create_log_stream(logGroupName=group, logStreamName=f"s-{stamp}")
        self.logs.put_log_events(logGroupName=group, logStreamName=f"s-{stamp}", logEvents=events)

    def open_incident(
        self, incident_id: str, service: str, kind: str, signals: list[dict[str, Any]], episode: int = 0
    ) -> IncidentMessage:
        """The incident as the detector opens it: the record with its signals, and the queue message."""
        opened_at = datetime.now(UTC)
        IncidentsRepository("incidents", self.dynamodb).create_if_absent(
            IncidentRecord(
                incident_id=incident_id,
                service=service,
                kind=kind,
                severity="high",
                opened_at=opened_at.isoformat(),
                summary=f"{kind} on {service}",
                signals=signals,
            )
        )
        return IncidentMessage(
            incident_id=incident_id,
            service=service,
            kind=kind,
            opened_at=opened_at,
            severity="high",
            summary=f"{kind} on {service}",
            episode=episode,
        )

    def llm_calls(self, incident_id: str) -> list[LlmCallRecord]:
        calls, _ = LlmActionsRepository("llm_actions", self.dynamodb).for_incident(incident_id)
        return calls


def error_signals(service: str) -> list[dict[str, Any]]:
    """Signals as the detector stores them on an error incident (``Signal.as_dict()``)."""
    return [
        {
            "service": service,
            "tick": 1,
            "kind": "error_rate",
            "score": 9.3,
            "strong": True,
            "detail": "error rate 31.0% against a normal 0.40% (z=9.3)",
            "metric": "ErrorRate",
            "value": 31.0,
            "baseline": 0.4,
            "predicted": False,
        },
        {
            "service": service,
            "tick": 1,
            "kind": "error_storm",
            "score": 5.2,
            "strong": False,
            "detail": "14 error lines in a tick against a normal 0.3 (z=5.2)",
            "value": 14,
            "predicted": False,
        },
    ]


def clear_llm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(PARAMETERS_PATH_ENV, raising=False)


def use_stub(monkeypatch: pytest.MonkeyPatch, provider: str, url: str, key: str = "stub-key-0123456789") -> None:
    """Point the deployed planner's settings (the environment) at a stub server for ``provider``."""
    clear_llm_environment(monkeypatch)
    if provider == "offline":
        monkeypatch.setenv("HEALOPS_LLM_PROVIDER", "offline")
        return
    monkeypatch.setenv("HEALOPS_LLM_PROVIDER", provider)
    monkeypatch.setenv("HEALOPS_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("HEALOPS_LLM_TIMEOUT_S", "5")
    if provider == "gemini":
        monkeypatch.setenv("GEMINI_API_KEY", key)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)
    elif provider == "nim":
        monkeypatch.setenv("NVIDIA_API_KEY", key)
        monkeypatch.setenv("HEALOPS_LLM_NIM_BASE_URL", f"{url}/v1")
    else:
        monkeypatch.setenv("OPENAI_API_KEY", key)
        monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")


@pytest.fixture
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStack]:
    use_moto_credentials(monkeypatch)
    clear_llm_environment(monkeypatch)
    environment = {f"HEALOPS_{key.upper()}_TABLE": key for key in TABLES}
    environment |= {
        "HEALOPS_SERVICE_LOG_GROUP_PREFIX": LOG_GROUP_PREFIX,
        "HEALOPS_FLEET_SIZE": str(FLEET_SIZE),
        "HEALOPS_TICK_SECONDS": "60",
        "HEALOPS_FLEET_TIME_SCALE": "60",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config.current.cache_clear()
    cached_provider.cache_clear()
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb, TABLES)
        definition = load_definition()
        fleet = FleetRepository("fleet", dynamodb)
        now = datetime.now(UTC).isoformat()
        logs = boto3.client("logs")
        for spec in expand(definition, FLEET_SIZE):
            fleet.create(ServiceState.initial(spec, definition.digest, now))
            logs.create_log_group(logGroupName=f"{LOG_GROUP_PREFIX}/{spec.name}")
        yield MotoStack(dynamodb, logs, config.load(environment))
    config.current.cache_clear()
    cached_provider.cache_clear()
