"""Settings the Lambda handlers read from their environment, named once and typed.

Terraform sets these variables on each function (``terraform/functions.tf``); tests set them
with ``monkeypatch``. :func:`load` reads them once per process (handlers call it at module
scope). Each value is parsed and checked as it is read: a number that is not one, or out of its
range, is an error naming the variable and what it accepts; a missing variable is an error that
names it when a handler asks for it, rather than a ``None`` that fails later inside a boto3 call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.fleet.clock import SimClock

# Dimension value of the metrics Heal-Ops emits about itself (not about a fleet service).
SELF_SERVICE_NAME = "heal-ops"


class MissingSettingError(RuntimeError):
    """A handler needs an environment variable its function was not given."""


class InvalidSettingError(ValueError):
    """An environment variable holds a value its setting does not accept."""


class Settings(BaseModel):
    """The environment of one function; only the fields a handler reads must be set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incidents_table: str | None = None
    remediations_table: str | None = None
    llm_actions_table: str | None = None
    agent_decisions_table: str | None = None
    fleet_table: str | None = None
    injections_table: str | None = None
    detector_state_table: str | None = None
    idempotency_table: str | None = None
    incidents_queue_url: str | None = None
    escalations_topic_arn: str | None = None
    state_machine_arn: str | None = None
    artifacts_bucket: str | None = None
    log_archive_bucket: str | None = None
    metric_archive_bucket: str | None = None
    metrics_namespace: str = "HealOps/Services"
    service_log_group_prefix: str = "/healops/services"
    llm_parameters_path: str | None = None
    # The simulated fleet's clock and randomness (healops/fleet/clock.py, telemetry.py).
    tick_seconds: float = Field(default=60.0, gt=0, description="a number of seconds > 0")
    fleet_time_scale: float = Field(default=1.0, gt=0, description="a number > 0")
    fleet_seed: int = Field(default=1, description="a whole number")
    # Services of the fleet definition's expansion (the detector's dependency graph).
    fleet_size: int = Field(default=8, ge=1, description="a whole number >= 1")
    # The SSM parameter holding the remediation limits (healops/remediation/policy.py).
    remediation_policy_parameter: str | None = None
    # SSM document of the real ECS services and Lambda functions to act on (terraform/targets.tf); unset: none.
    targets_parameter: str | None = None
    # The state machine's execution timeout: a remediation slot held longer was abandoned (store/slots.py).
    remediation_execution_timeout_s: float = Field(default=86400.0, gt=0, description="a number of seconds > 0")
    # Services whose log group the detector reads per run (FilterLogEvents: about 5 calls a second per account).
    detector_log_reads_per_run: int = Field(default=100, ge=1, description="a whole number >= 1")
    # The detector reads the fleet's metrics every this many ticks (healops/detection/schedule.py, docs/cost.md).
    detector_read_every_ticks: int = Field(default=1, ge=1, le=15, description="a whole number from 1 to 15")
    # Telling people (healops/notify): the function the remediator and detector hand events to, where the
    # notifier finds its sinks' secrets, the topic it e-mails through (unset: no e-mail subscribers), the
    # PagerDuty Events API, the dashboard its messages link to, and where it records each delivery.
    notifications_table: str | None = None
    notifier_function: str | None = None
    notify_parameters_path: str | None = None
    notify_email_topic_arn: str | None = None
    pagerduty_events_url: str | None = None
    dashboard_url: str | None = None

    def require(self, field_name: str) -> str:
        """The value of ``field_name``, or an error naming its environment variable."""
        value = getattr(self, field_name)
        if not value:
            raise MissingSettingError(
                f"environment variable {ENV_NAMES[field_name]} is not set: "
                "the function's Terraform configuration must provide it"
            )
        return str(value)

    def clock(self) -> SimClock:
        """The simulated fleet's clock: every function that reads or writes ticks builds it here."""
        return SimClock(self.tick_seconds, self.fleet_time_scale)


# Each field's variable is HEALOPS_<FIELD NAME> (Terraform sets them under these names).
ENV_NAMES: dict[str, str] = {name: f"HEALOPS_{name.upper()}" for name in Settings.model_fields}


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``environ`` (the process environment by default); empty values count as unset."""
    env = os.environ if environ is None else environ
    values = {name: env[var] for name, var in ENV_NAMES.items() if env.get(var)}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise InvalidSettingError(_describe(exc, values)) from exc


def _describe(exc: ValidationError, values: Mapping[str, str]) -> str:
    """``environment variable HEALOPS_X must be <what it accepts>, got '<value>'`` for each bad value."""
    problems = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0])
        accepted = Settings.model_fields[name].description or error["msg"]
        problems.append(f"environment variable {ENV_NAMES[name]} must be {accepted}, got {values.get(name)!r}")
    return "; ".join(problems)


@cache
def current() -> Settings:
    """The process environment's settings, read on first use (``current.cache_clear()`` re-reads)."""
    return load()
