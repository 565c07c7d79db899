"""The fault catalog: one type per fault, and the one enum of their kinds.

Each :class:`FaultType` says everything the fleet model knows about its fault: its typed parameters
(with ranges), its default duration, what it does to a service's tick (the ``shape_*`` hooks, called
phase by phase by :func:`healops.fleet.telemetry.service_tick`), the exceptions its error lines carry,
what it inflicts on callers (``outbound``), and what ends it (``ended_by``: the fleet actions that
remove it from the state). Adding a fault is a kind in :class:`FaultKind`, a subclass here, and its
entry in :data:`FAULTS`: this module and its tests.

Parameters are in ticks (one tick is one period of the ``healops-tick`` schedule), because the
simulation's clock is the tick count. ``fixed_by`` is the ground truth of which fleet actions
remove the fault; ``relieved_by`` lists actions that ease the symptoms without removing it. Both
are written to the injections table only: the fleet adapter's ``describe`` never exposes them,
so a detector or remediator cannot read the answer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.fleet.logtemplates import SITE, UPSTREAM_ERRORS, ErrorTemplate
from healops.models.errors import describe_validation_error

if TYPE_CHECKING:
    from healops.models.fleet import ActiveFault, ServiceState


class FaultKind(StrEnum):
    """The faults the fleet model simulates; the values are the stored and wire names."""

    CPU_SATURATION = "cpu_saturation"
    CPU_SPIKE = "cpu_spike"
    MEMORY_LEAK = "memory_leak"
    DISK_EXHAUSTION = "disk_exhaustion"
    SERVICE_CRASH = "service_crash"
    NETWORK_LATENCY = "network_latency"
    ERROR_STORM = "error_storm"
    BAD_DEPLOY = "bad_deploy"
    DEPENDENCY_FAILURE = "dependency_failure"


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


ErrorCause = tuple[str, float, dict[str, str]]  # (a fault kind or "upstream", share %, template values)
EventLine = tuple[str, str, dict[str, Any]]  # (level, message, extra)


@dataclass
class TickDraft:
    """One service's tick while it is computed: what the fault types' hooks read and change, phase by phase.

    The order of the phases (load, cpu, memory, disk, errors, outcome) and of the faults within one (the
    catalog's) fixes the order of the random draws, so the same inputs give the same tick.
    """

    state: ServiceState
    tick: int
    rng: random.Random
    load: float = 0.0
    cpu_demand: float = 0.0
    cpu: float = 0.0
    memory_mb: float = 0.0
    memory_pct: float = 0.0
    alive: int = 0
    disk_pct: float = 0.0
    error_pct: float = 0.0
    added_ms: float = 0.0
    latency_factor: float = 1.0
    p50: float = 0.0
    p99: float = 0.0
    error_causes: list[ErrorCause] = field(default_factory=list)
    notes: list[EventLine] = field(default_factory=list)


@dataclass(frozen=True)
class Outbound:
    """What a fault inflicts on the callers of its service, one hop away, before the decay per hop."""

    error_pct: float
    added_ms: float
    decay: float


class FaultType:
    """One fault: its parameters, its duration, its effect on a tick, its log templates, what ends it.

    The ``shape_*`` hooks do nothing here; a fault overrides the phases it acts in.
    """

    kind: ClassVar[FaultKind]
    summary: ClassVar[str]
    params: ClassVar[type[FaultParams]]
    default_duration_s: ClassVar[int | None]  # None: until remediated
    fixed_by: ClassVar[tuple[str, ...]]  # ground truth: the actions that remove it
    relieved_by: ClassVar[tuple[str, ...]] = ()  # ground truth: the actions that ease it
    ended_by: ClassVar[tuple[str, ...]] = ()  # the fleet actions that take it off the state
    propagates: ClassVar[bool] = False  # reaches the service's callers (see ``outbound``)
    deploys_version: ClassVar[bool] = False  # injecting it ships a new version (rollback's target: the old one)
    conflicts_with: ClassVar[frozenset[FaultKind]] = frozenset()  # besides itself, on the same service
    error_templates: ClassVar[tuple[ErrorTemplate, ...]] = ()  # what its ERROR lines say
    error_status: ClassVar[int] = 500  # the HTTP status of its failed requests

    @property
    def name(self) -> FaultKind:
        return self.kind

    def param(self, active: ActiveFault, name: str) -> float:
        """A numeric parameter of ``active`` as stored, or the parameter's default."""
        return float(active.params.get(name, self.params.model_fields[name].default))

    # -- the tick's phases, in the order service_tick calls them ------------------------------

    def shape_load(self, draft: TickDraft, active: ActiveFault) -> None:
        """Traffic: ``draft.load``, before the throttle sheds its share."""

    def shape_cpu(self, draft: TickDraft, active: ActiveFault) -> None:
        """CPU: ``draft.cpu_demand``, before it is capped at 100."""

    def shape_memory(self, draft: TickDraft, active: ActiveFault) -> None:
        """Memory: ``draft.memory_mb`` (and replicas killed: ``draft.alive``)."""

    def shape_disk(self, draft: TickDraft, active: ActiveFault) -> None:
        """Disk: ``draft.disk_pct``, before it is capped at 100."""

    def shape_errors(self, draft: TickDraft, active: ActiveFault) -> None:
        """Errors and latency: ``draft.error_pct``, ``draft.added_ms``, ``draft.latency_factor``."""

    def shape_outcome(self, draft: TickDraft, active: ActiveFault) -> None:
        """The last word on every metric, after callers' effects and latency percentiles are computed."""

    # -- beyond the tick ---------------------------------------------------------------------

    def outbound(self, active: ActiveFault) -> Outbound | None:
        """What it inflicts on callers, if it propagates."""
        return None

    def after_restart(self, active: ActiveFault, tick: int) -> ActiveFault:
        """The fault after every replica restarts at ``tick`` (unchanged unless it accumulates)."""
        return active

    # -- parameters ----------------------------------------------------------------------------

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
        for name, field_info in self.params.model_fields.items():
            entry: dict[str, Any] = {"default": field_info.default, "description": field_info.description}
            for meta in field_info.metadata:
                for bound in ("ge", "le", "gt", "lt", "pattern"):
                    if getattr(meta, bound, None) is not None:
                        entry[bound] = getattr(meta, bound)
            entry["type"] = getattr(field_info.annotation, "__name__", str(field_info.annotation))
            fields[name] = entry
        return {
            "summary": self.summary,
            "params": fields,
            "default_duration_s": self.default_duration_s,
            "propagates_to_callers": self.propagates,
        }


class InvalidFaultParamsError(ValueError):
    """Fault parameters out of range, of the wrong type, or unknown."""


class CpuSaturation(FaultType):
    kind = FaultKind.CPU_SATURATION
    summary = "traffic surge: CPU per replica near 100%, latency climbs, timeouts follow"
    params = CpuSaturationParams
    default_duration_s = 1800
    fixed_by = ("scale_out",)
    relieved_by = ("throttle",)
    # Its timeouts are the tick's CPU queueing (any service past 100% CPU logs them), hence 503.
    error_status = 503
    error_templates = (
        (
            "app.http",
            "asyncio.exceptions.TimeoutError",
            "request handler exceeded its 5.0 s deadline",
            [("/app/{service}/server.py", 210, "dispatch", "return await asyncio.wait_for(handler(request), 5.0)")],
        ),
    )

    def shape_load(self, draft: TickDraft, active: ActiveFault) -> None:
        draft.load *= self.param(active, "load_multiplier")


class CpuSpike(FaultType):
    kind = FaultKind.CPU_SPIKE
    summary = "a short burst of CPU (batch job, GC storm)"
    params = CpuSpikeParams
    default_duration_s = 300
    fixed_by = ("scale_out",)
    ended_by = ("scale_out",)  # new replicas take the burst

    def shape_cpu(self, draft: TickDraft, active: ActiveFault) -> None:
        state = draft.state
        draft.cpu_demand += self.param(active, "extra_cpu_pct") * state.spec.replicas / state.replicas


class MemoryLeak(FaultType):
    kind = FaultKind.MEMORY_LEAK
    summary = "resident memory grows every tick until the OOM killer restarts the process, then again"
    params = MemoryLeakParams
    default_duration_s = None
    fixed_by = ("rollback",)
    relieved_by = ("restart", "raise_memory_limit")
    ended_by = ("rollback",)  # the leak shipped with the current version
    error_templates = (
        (
            "app.worker",
            "MemoryError",
            "",
            [
                ("/app/{service}/cache.py", 73, "remember", "self._entries[key] = value"),
            ],
        ),
    )

    def shape_memory(self, draft: TickDraft, active: ActiveFault) -> None:
        # The resident set grows from the anchor tick (the injection, or the last restart).
        state, name = draft.state, draft.state.service
        rate = self.param(active, "leak_mb_per_tick")
        headroom = max(1.0, state.memory_limit_mb - draft.memory_mb)
        cycle = math.ceil(headroom / rate) + 1  # ticks from a (re)start to the OOM kill, plus the restart
        phase = (draft.tick - active.anchor_tick) % cycle
        draft.memory_mb = min(state.memory_limit_mb, draft.memory_mb + rate * phase)
        if phase == cycle - 1:
            draft.memory_mb = state.memory_limit_mb * 0.995
            draft.alive = max(0, state.replicas - max(1, state.replicas // 2))
            draft.error_pct += 40.0
            draft.error_causes.append((self.kind, 40.0, {}))
            draft.notes.append(
                (
                    "ERROR",
                    f"container {name} OOMKilled: memory usage reached the {state.memory_limit_mb} MiB limit; "
                    "exit code 137, restarting",
                    {"event": "oom_kill", "exit_code": 137, "memory_limit_mb": state.memory_limit_mb},
                )
            )

    def after_restart(self, active: ActiveFault, tick: int) -> ActiveFault:
        # A restart frees the accumulated memory; the leak itself goes on from there.
        return active.model_copy(update={"anchor_tick": tick})


class DiskExhaustion(FaultType):
    kind = FaultKind.DISK_EXHAUSTION
    summary = "disk fills at a steady rate; at 100% writes fail and errors follow"
    params = DiskExhaustionParams
    default_duration_s = None
    fixed_by = ("clear_disk",)
    ended_by = ("clear_disk",)
    error_templates = (
        (
            "app.storage",
            "OSError",
            "[Errno 28] No space left on device: '/var/lib/{service}/spool/batch-0042.tmp'",
            [
                ("/app/{service}/spool.py", 64, "append", "with open(path, 'ab') as fh:"),
            ],
        ),
    )

    def shape_disk(self, draft: TickDraft, active: ActiveFault) -> None:
        draft.disk_pct += self.param(active, "fill_pct_per_tick") * (draft.tick - active.started_tick + 1)


class ServiceCrash(FaultType):
    kind = FaultKind.SERVICE_CRASH
    summary = "every replica exits; callers see connection refused"
    params = ServiceCrashParams
    default_duration_s = None
    fixed_by = ("restart", "failover")
    ended_by = ("restart", "failover")
    propagates = True
    conflicts_with = frozenset({FaultKind.SERVICE_CRASH})

    def shape_outcome(self, draft: TickDraft, active: ActiveFault) -> None:
        state, name = draft.state, draft.state.service
        draft.alive, draft.cpu, draft.memory_pct, draft.error_pct = 0, 0.0, 0.0, 100.0
        draft.p50, draft.p99 = 1.5, 4.0  # the load balancer answers 503 at once
        draft.error_causes = [("upstream", 100.0, {"dep": name})]
        if draft.tick == active.started_tick:
            code = int(self.param(active, "exit_code"))
            draft.notes.append(
                (
                    "ERROR",
                    f"process exited with status {code}; all {state.replicas} replicas of {name} are down",
                    {"event": "crash", "exit_code": code},
                )
            )
        draft.notes.append(
            (
                "ERROR",
                f"upstream connect error or disconnect/reset before headers: {name}.internal connection refused",
                {"event": "lb_no_healthy_upstream"},
            )
        )

    def outbound(self, active: ActiveFault) -> Outbound | None:
        return Outbound(100.0, 0.0, 0.5)


class NetworkLatency(FaultType):
    kind = FaultKind.NETWORK_LATENCY
    summary = "a degraded network path adds latency to every request"
    params = NetworkLatencyParams
    default_duration_s = 900
    fixed_by = ("failover",)
    relieved_by = ("throttle",)
    ended_by = ("failover",)
    propagates = True
    error_status = 503
    error_templates = (
        (
            "app.client",
            "httpx.ReadTimeout",
            "timed out after {ms} ms",
            [
                ("/app/{service}/client.py", 51, "call", "response = await self.http.post(url, json=payload)"),
                (
                    f"{SITE}/httpx/_transports/default.py",
                    86,
                    "map_httpcore_exceptions",
                    "raise mapped_exc(message) from exc",
                ),
            ],
        ),
    )

    def shape_errors(self, draft: TickDraft, active: ActiveFault) -> None:
        draft.added_ms += self.param(active, "added_ms") * (1.0 + abs(draft.rng.gauss(0.0, 0.1)))
        if draft.added_ms > 1000.0:
            timeouts = min(30.0, (draft.added_ms - 1000.0) / 100.0)
            draft.error_pct += timeouts
            draft.error_causes.append((self.kind, timeouts, {"ms": f"{draft.added_ms:.0f}"}))

    def outbound(self, active: ActiveFault) -> Outbound | None:
        return Outbound(0.0, self.param(active, "added_ms"), self.param(active, "decay"))


class ErrorStorm(FaultType):
    kind = FaultKind.ERROR_STORM
    summary = "a burst of 5xx responses with exception traces (poisoned cache, stuck connections)"
    params = ErrorStormParams
    default_duration_s = 600
    fixed_by = ("restart",)
    relieved_by = ("throttle",)
    ended_by = ("restart",)
    error_templates = (
        (
            "app.cache",
            "redis.exceptions.ConnectionError",
            "Error 111 connecting to cache.{service}.internal:6379. Connection refused.",
            [
                ("/app/{service}/handlers.py", 88, "handle", "cached = self.cache.get(key)"),
                (f"{SITE}/redis/client.py", 1266, "get", "return self.execute_command('GET', name)"),
                (f"{SITE}/redis/connection.py", 707, "connect", "raise ConnectionError(self._error_message(e))"),
            ],
        ),
        (
            "app.http",
            "sqlalchemy.exc.TimeoutError",
            "QueuePool limit of size 20 overflow 10 reached, connection timed out, timeout 30.00",
            [
                ("/app/{service}/repository.py", 41, "load", "with self.engine.connect() as conn:"),
                (f"{SITE}/sqlalchemy/pool/impl.py", 168, "_do_get", "raise exc.TimeoutError("),
            ],
        ),
    )

    def shape_errors(self, draft: TickDraft, active: ActiveFault) -> None:
        share = self.param(active, "error_pct") * (1.0 + draft.rng.gauss(0.0, 0.05))
        draft.error_pct += share
        draft.error_causes.append((self.kind, share, {}))


class BadDeploy(FaultType):
    kind = FaultKind.BAD_DEPLOY
    summary = "a new version goes out and brings errors and latency; restarting does not help"
    params = BadDeployParams
    default_duration_s = None
    fixed_by = ("rollback",)
    ended_by = ("rollback",)
    deploys_version = True
    conflicts_with = frozenset({FaultKind.BAD_DEPLOY})
    error_templates = (
        (
            "app.handlers",
            "KeyError",
            "'currency_code'",
            [
                ("/app/{service}/handlers.py", 132, "handle", "amount = Money(body['amount'], body['currency_code'])"),
            ],
        ),
        (
            "app.handlers",
            "AttributeError",
            "'NoneType' object has no attribute 'tenant_id'",
            [
                ("/app/{service}/middleware.py", 57, "__call__", "scope['tenant'] = request.user.tenant_id"),
            ],
        ),
    )

    def shape_errors(self, draft: TickDraft, active: ActiveFault) -> None:
        share = self.param(active, "error_pct") * (1.0 + draft.rng.gauss(0.0, 0.05))
        draft.error_pct += share
        draft.latency_factor *= self.param(active, "latency_factor")
        draft.error_causes.append((self.kind, share, {}))


class DependencyFailure(FaultType):
    kind = FaultKind.DEPENDENCY_FAILURE
    summary = "the service fails its callers; symptoms spread up the call graph, weaker with distance"
    params = DependencyFailureParams
    default_duration_s = None
    fixed_by = ("failover",)
    ended_by = ("failover",)
    propagates = True
    error_templates = (
        (
            "app.db",
            "psycopg.OperationalError",
            "connection failed: FATAL:  remaining connection slots are reserved for non-replication "
            "superuser connections",
            [
                ("/app/{service}/db.py", 29, "connect", "return psycopg.connect(self.dsn, connect_timeout=3)"),
                (f"{SITE}/psycopg/connection.py", 748, "connect", "raise last_ex.with_traceback(None)"),
            ],
        ),
    )

    def shape_errors(self, draft: TickDraft, active: ActiveFault) -> None:
        share = self.param(active, "severity_pct")
        draft.error_pct += share
        draft.error_causes.append((self.kind, share, {}))

    def outbound(self, active: ActiveFault) -> Outbound | None:
        return Outbound(self.param(active, "severity_pct"), 150.0, self.param(active, "decay"))


# The catalog, in the order the tick applies faults (which fixes the order of the random draws).
FAULTS: dict[FaultKind, FaultType] = {
    fault.kind: fault
    for fault in (
        CpuSaturation(),
        CpuSpike(),
        MemoryLeak(),
        DiskExhaustion(),
        ServiceCrash(),
        NetworkLatency(),
        ErrorStorm(),
        BadDeploy(),
        DependencyFailure(),
    )
}


def conflicting(fault: str, active: list[str]) -> list[str]:
    """Active faults that ``fault`` cannot join: the same fault, or one in its conflict set."""
    blocked = fault_type(fault).conflicts_with | {fault}
    return [a for a in active if a in blocked]


def fault_type(name: str) -> FaultType:
    try:
        return FAULTS[FaultKind(name)]
    except ValueError:
        raise UnknownFaultError(f"fault: unknown fault {name!r}; accepted: {', '.join(sorted(FAULTS))}") from None


def templates_of(cause: str) -> tuple[ErrorTemplate, ...]:
    """The exceptions an error line of ``cause`` (a fault kind, or "upstream") may carry."""
    if cause in FAULTS:
        return FAULTS[FaultKind(cause)].error_templates
    return UPSTREAM_ERRORS


def status_of(cause: str) -> int:
    """The HTTP status of a request failed by ``cause``: a fault kind's own, 503 for "upstream", else 500."""
    if cause in FAULTS:
        return FAULTS[FaultKind(cause)].error_status
    return 503 if cause == "upstream" else 500


class UnknownFaultError(ValueError):
    """A fault name not in the catalog."""
