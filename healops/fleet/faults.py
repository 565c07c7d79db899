"""The fault catalog: each fault's typed parameters (with ranges), duration and ground truth.

Parameters are in ticks (one tick is one period of the ``healops-tick`` schedule), because the
simulation's clock is the tick count. ``fixed_by`` is the ground truth of which fleet actions
remove the fault; ``relieved_by`` lists actions that ease the symptoms without removing it. Both
are written to the injections table only: the fleet adapter's ``describe`` never exposes them,
so a detector or remediator cannot read the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.models.errors import describe_validation_error


class FaultParams(BaseModel):
    # Strict types: lax mode would read "40" as 40.0, true as 1 and 139.0 as 139, and record a
    # fault its caller did not write. A JSON integer is still a number (40 for a float field).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CpuSaturationParams(FaultParams):
    load_multiplier: float = Field(default=4.0, ge=1.5, le=8.0, description="traffic per replica, x the baseline")


class CpuSpikeParams(FaultParams):
    extra_cpu_pct: float = Field(default=40.0, ge=10.0, le=70.0, description="CPU points added on every replica")


class MemoryLeakParams(FaultParams):
    leak_mb_per_tick: float = Field(default=60.0, ge=1.0, le=2000.0, description="resident memory growth per tick")


class DiskExhaustionParams(FaultParams):
    fill_pct_per_tick: float = Field(default=3.0, ge=0.1, le=25.0, description="disk points filled per tick")


class ServiceCrashParams(FaultParams):
    exit_code: int = Field(default=139, ge=1, le=255, description="the process's exit status (139: SIGSEGV)")


class NetworkLatencyParams(FaultParams):
    added_ms: float = Field(default=400.0, ge=20.0, le=10_000.0, description="latency added to every request")
    decay: float = Field(default=0.5, ge=0.1, le=0.9, description="share felt by each caller one hop further")


class ErrorStormParams(FaultParams):
    error_pct: float = Field(default=35.0, ge=5.0, le=100.0, description="share of requests failing with 5xx")


class BadDeployParams(FaultParams):
    error_pct: float = Field(default=25.0, ge=5.0, le=100.0, description="share of requests failing after the deploy")
    latency_factor: float = Field(default=1.6, ge=1.0, le=5.0, description="latency multiplier of the new version")
    version: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$", description="the bad version (default: next patch)"
    )


class DependencyFailureParams(FaultParams):
    severity_pct: float = Field(default=80.0, ge=10.0, le=100.0, description="share of calls to it that fail")
    decay: float = Field(default=0.5, ge=0.1, le=0.9, description="share felt by each caller one hop further")


@dataclass(frozen=True)
class FaultType:
    name: str
    summary: str
    params: type[FaultParams]
    default_duration_s: int | None  # None: until remediated
    fixed_by: tuple[str, ...]
    relieved_by: tuple[str, ...] = ()
    propagates: bool = False

    def parse_params(self, raw: dict[str, Any]) -> FaultParams:
        try:
            return self.params.model_validate(raw)
        except ValidationError as exc:
            problems = describe_validation_error(exc, self.accepted)
            raise InvalidFaultParamsError(f"params of {self.name}: {problems}") from None

    def accepted(self, field: str) -> str:
        """What ``field`` accepts, in words: its JSON type and range, or the parameter names."""
        info = self.params.model_fields.get(field)
        if info is None:
            return f"the parameters {', '.join(self.params.model_fields) or '(none)'}"
        bounds = {name: getattr(meta, name) for meta in info.metadata for name in ("ge", "le") if hasattr(meta, name)}
        span = f" from {bounds['ge']:g} to {bounds['le']:g}" if {"ge", "le"} <= bounds.keys() else ""
        if info.annotation is float:
            return f"a JSON number{span}, not a string or a boolean"
        if info.annotation is int:
            return f"a JSON integer{span}, not a string, a boolean or a decimal"
        pattern = next((meta.pattern for meta in info.metadata if getattr(meta, "pattern", None)), None)
        return f"a string{f' matching {pattern}' if pattern else ''}, or null"

    def schema(self) -> dict[str, Any]:
        """The parameter schema the injector's ``list`` answers."""
        fields = {}
        for name, field in self.params.model_fields.items():
            entry: dict[str, Any] = {"default": field.default, "description": field.description}
            for meta in field.metadata:
                for bound in ("ge", "le", "gt", "lt", "pattern"):
                    if getattr(meta, bound, None) is not None:
                        entry[bound] = getattr(meta, bound)
            entry["type"] = getattr(field.annotation, "__name__", str(field.annotation))
            fields[name] = entry
        return {
            "summary": self.summary,
            "params": fields,
            "default_duration_s": self.default_duration_s,
            "propagates_to_callers": self.propagates,
        }


class InvalidFaultParamsError(ValueError):
    """Fault parameters out of range, of the wrong type, or unknown."""


FAULTS: dict[str, FaultType] = {
    f.name: f
    for f in (
        FaultType(
            "cpu_saturation",
            "traffic surge: CPU per replica near 100%, latency climbs, timeouts follow",
            CpuSaturationParams,
            1800,
            fixed_by=("scale_out",),
            relieved_by=("throttle",),
        ),
        FaultType(
            "cpu_spike", "a short burst of CPU (batch job, GC storm)", CpuSpikeParams, 300, fixed_by=("scale_out",)
        ),
        FaultType(
            "memory_leak",
            "resident memory grows every tick until the OOM killer restarts the process, then again",
            MemoryLeakParams,
            None,
            fixed_by=("rollback",),
            relieved_by=("restart", "raise_memory_limit"),
        ),
        FaultType(
            "disk_exhaustion",
            "disk fills at a steady rate; at 100% writes fail and errors follow",
            DiskExhaustionParams,
            None,
            fixed_by=("clear_disk",),
        ),
        FaultType(
            "service_crash",
            "every replica exits; callers see connection refused",
            ServiceCrashParams,
            None,
            fixed_by=("restart", "failover"),
            propagates=True,
        ),
        FaultType(
            "network_latency",
            "a degraded network path adds latency to every request",
            NetworkLatencyParams,
            900,
            fixed_by=("failover",),
            relieved_by=("throttle",),
            propagates=True,
        ),
        FaultType(
            "error_storm",
            "a burst of 5xx responses with exception traces (poisoned cache, stuck connections)",
            ErrorStormParams,
            600,
            fixed_by=("restart",),
            relieved_by=("throttle",),
        ),
        FaultType(
            "bad_deploy",
            "a new version goes out and brings errors and latency; restarting does not help",
            BadDeployParams,
            None,
            fixed_by=("rollback",),
        ),
        FaultType(
            "dependency_failure",
            "the service fails its callers; symptoms spread up the call graph, weaker with distance",
            DependencyFailureParams,
            None,
            fixed_by=("failover",),
            propagates=True,
        ),
    )
}

# Faults that cannot be active on one service together (they model the same mechanism).
CONFLICTS: dict[str, frozenset[str]] = {
    "service_crash": frozenset({"service_crash"}),
    "bad_deploy": frozenset({"bad_deploy"}),
}


def conflicting(fault: str, active: list[str]) -> list[str]:
    """Active faults that ``fault`` cannot join: the same fault, or one in its conflict set."""
    blocked = CONFLICTS.get(fault, frozenset()) | {fault}
    return [a for a in active if a in blocked]


def fault_type(name: str) -> FaultType:
    try:
        return FAULTS[name]
    except KeyError:
        raise UnknownFaultError(f"fault: unknown fault {name!r}; accepted: {', '.join(sorted(FAULTS))}") from None


class UnknownFaultError(ValueError):
    """A fault name not in the catalog."""
