"""Settings the Lambda handlers read from their environment, named once.

Terraform sets these variables on each function (``terraform/functions.tf``); tests set them
with ``monkeypatch``. :func:`load` reads them once per process (handlers call it at module
scope), and a missing variable is an error that names it, rather than a ``None`` that fails
later inside a boto3 call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache

# Dimension value of the metrics Heal-Ops emits about itself (not about a fleet service).
SELF_SERVICE_NAME = "heal-ops"


class MissingSettingError(RuntimeError):
    """A handler needs an environment variable its function was not given."""


@dataclass(frozen=True)
class Settings:
    """The environment of one function; only the fields a handler reads must be set."""

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
    tick_seconds: str = "60"
    fleet_time_scale: str = "1"
    fleet_seed: str = "1"
    fleet_size: str = "8"  # services of the fleet definition's expansion (the detector's dependency graph)
    # The SSM parameter holding the remediation limits (healops/remediation/policy.py).
    remediation_policy_parameter: str | None = None
    # The state machine's execution timeout: a remediation slot held longer was abandoned (store/slots.py).
    remediation_execution_timeout_s: str = "86400"
    # Services whose log group the detector reads per run (FilterLogEvents: about 5 calls a second per account).
    detector_log_reads_per_run: str = "100"

    def require(self, field_name: str) -> str:
        """The value of ``field_name``, or an error naming its environment variable."""
        value = getattr(self, field_name)
        if not value:
            raise MissingSettingError(
                f"environment variable {ENV_NAMES[field_name]} is not set: "
                "the function's Terraform configuration must provide it"
            )
        return str(value)

    def positive_int(self, field_name: str) -> int:
        """The value of ``field_name`` as a whole number of at least 1, or an error naming its variable."""
        raw = self.require(field_name)
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"environment variable {ENV_NAMES[field_name]} must be a whole number >= 1, got {raw!r}")
        return value


# Each field's variable is HEALOPS_<FIELD NAME> (Terraform sets them under these names).
ENV_NAMES: dict[str, str] = {f.name: f"HEALOPS_{f.name.upper()}" for f in fields(Settings)}


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``environ`` (the process environment by default); empty values count as unset."""
    env = os.environ if environ is None else environ
    values = {name: env[var] for name, var in ENV_NAMES.items() if env.get(var)}
    return Settings(**values)


@cache
def current() -> Settings:
    """The process environment's settings, read on first use (``current.cache_clear()`` re-reads)."""
    return load()
