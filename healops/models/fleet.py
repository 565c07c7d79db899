"""The fleet's records, shared by the fleet model, the store and the remediation: what a service is, and its state.

``ServiceSpec`` is a service as the definition file (``healops/fleet/fleet.json``) describes it; ``ServiceState`` is
one fleet-table item: the spec it was seeded from plus what changes at run time. ``record_version`` is the
optimistic-concurrency counter: every write is conditional on the version read and increments it. ``faults`` carries
what the telemetry model needs to render a fault (type, parameters, start tick, expiry); which action fixes it is
*not* here (that ground truth stays in the injections table).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from healops.models.incident import SERVICE_NAME_PATTERN


class Baseline(BaseModel):
    """A service's normal operating point at the daily mean load, on its initial replica count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rps: float = Field(gt=0, le=100_000, description="requests per second")
    cpu_pct: float = Field(gt=0, lt=100)
    memory_mb: float = Field(gt=0)
    disk_pct: float = Field(ge=0, lt=100)
    latency_p50_ms: float = Field(gt=0)
    latency_p99_ms: float = Field(gt=0)
    error_pct: float = Field(ge=0, lt=100)


class ServiceSpec(BaseModel):
    """What a service is (from the definition file); its run-time state lives in the fleet table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SERVICE_NAME_PATTERN)
    tier: Literal["edge", "app", "data"]
    depends_on: tuple[str, ...] = ()
    replicas: int = Field(ge=1, le=1000)
    version: str = Field(min_length=1, max_length=64)
    cpu_cores: float = Field(gt=0, le=128)
    memory_limit_mb: int = Field(ge=64, le=1_048_576)
    disk_gb: float = Field(gt=0, le=100_000)
    baseline: Baseline

    @model_validator(mode="after")
    def _memory_fits(self) -> ServiceSpec:
        if self.baseline.memory_mb >= self.memory_limit_mb:
            raise ValueError(f"{self.name}: baseline.memory_mb must be below memory_limit_mb")
        return self


Health = Literal["healthy", "degraded", "down"]


class ActiveFault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    injection_id: str
    fault: str
    params: dict[str, Any] = Field(default_factory=dict)
    started_tick: int
    until_tick: int | None = None  # None: until remediated
    # Tick from which an accumulating fault (memory leak) counts; a restart moves it.
    anchor_tick: int

    def active_at(self, tick: int) -> bool:
        return tick >= self.started_tick and (self.until_tick is None or tick < self.until_tick)


class ServiceState(BaseModel):
    """One fleet table item: the spec it was seeded from plus what changes at run time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    spec: ServiceSpec
    definition_digest: str
    record_version: int = 1
    replicas: int
    version: str
    previous_version: str | None = None
    cpu_cores: float
    memory_limit_mb: int
    disk_gb: float
    disk_used_pct: float  # at rest, excluding an active disk fill
    throttle_pct: float = 0.0  # share of incoming traffic shed at the edge
    health: Health = "healthy"
    faults: tuple[ActiveFault, ...] = ()
    updated_at: str = ""
    last_action: str | None = None
    deployed_at: str | None = None  # when the running version went out (ISO-8601 UTC)
    # The id of the last remediation operation applied: a retried operation is not applied twice.
    last_operation_id: str | None = None

    @classmethod
    def initial(cls, spec: ServiceSpec, digest: str, now: str) -> ServiceState:
        return cls(
            service=spec.name,
            spec=spec,
            definition_digest=digest,
            replicas=spec.replicas,
            version=spec.version,
            cpu_cores=spec.cpu_cores,
            memory_limit_mb=spec.memory_limit_mb,
            disk_gb=spec.disk_gb,
            disk_used_pct=spec.baseline.disk_pct,
            updated_at=now,
        )

    def active_faults(self, tick: int) -> list[ActiveFault]:
        return [f for f in self.faults if f.active_at(tick)]

    def fault(self, name: str, tick: int) -> ActiveFault | None:
        return next((f for f in self.active_faults(tick) if f.fault == name), None)
