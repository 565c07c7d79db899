"""What the dashboard reads and writes, reached through the app: clients and repositories, built lazily.

One :class:`StackResources` per app (``app.extensions["healops"]``). Names come from the stack's
discovery document (the SSM parameter ``/<prefix>/stack`` Terraform writes), read on first use;
clients come from :func:`healops.aws.client` unless a test injects its own factory.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from healops import aws, egress
from healops.fleet.clock import SimClock
from healops.fleet.definition import expand, load_definition
from healops.store.agent_decisions import AgentDecisionsRepository
from healops.store.fleet import FleetRepository
from healops.store.incidents import IncidentsRepository
from healops.store.llm_actions import LlmActionsRepository
from healops.store.notifications import NotificationsRepository
from healops.store.remediations import RemediationsRepository

ClientFactory = Callable[[str], Any]
DEFAULT_TICK_SECONDS = SimClock().tick_seconds  # Terraform's default tick_schedule, rate(1 minute)


class StackNotFoundError(RuntimeError):
    """The discovery document is missing: the stack is not deployed to this endpoint."""


@dataclass
class StackResources:
    """Lazily created clients and repositories of one deployed stack."""

    name_prefix: str = "healops"
    endpoint_url: str | None = None
    client_factory: ClientFactory | None = None
    # A discovery document given directly (tests); otherwise read from SSM on first use.
    discovery: dict[str, Any] | None = None
    # Figures that summarise hours (the 24-hour window) are recomputed at most this often.
    summary_ttl_s: float = 30.0
    # The embedded cloud's --time-scale: the fleet's clock runs this many times faster, so charts take one
    # point per tick and windows of ticks, not of real minutes. 1 on LocalStack and AWS.
    time_scale: float = 1.0
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict, repr=False)

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=8, thread_name_prefix="dashboard-read")

    def run_all(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run independent reads at once (each waits on the network); results in order, first error raised."""
        if len(calls) == 1:
            return [calls[0]()]
        futures = [self._pool.submit(call) for call in calls]
        return [f.result() for f in futures]

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, reused for ``summary_ttl_s`` seconds (0: never reused)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.summary_ttl_s:
            return hit[1]
        value = compute()
        with self._lock:
            self._cache[key] = (now, value)
        return value

    def client(self, service: str) -> Any:
        # boto3 clients are thread-safe once built; building them is not, hence the lock.
        with self._lock:
            if service not in self._clients:
                factory = self.client_factory or (lambda name: aws.client(name, endpoint_url=self.endpoint_url))
                # Its writes (an approval's answer to Step Functions) are redacted by the client (healops/egress.py).
                self._clients[service] = egress.redacting(factory(service))
            return self._clients[service]

    @cached_property
    def stack(self) -> dict[str, Any]:
        if self.discovery is not None:
            return self.discovery
        ssm = self.client("ssm")
        name = f"/{self.name_prefix}/stack"
        try:
            value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            raise StackNotFoundError(
                f"SSM parameter {name} not found: is the stack deployed (`healops up`) and the endpoint right?"
            ) from None
        return json.loads(value)

    def table(self, key: str) -> str:
        return self.stack["tables"][key]

    @cached_property
    def incidents(self) -> IncidentsRepository:
        return IncidentsRepository(self.table("incidents"), self.client("dynamodb"))

    @cached_property
    def remediations(self) -> RemediationsRepository:
        return RemediationsRepository(self.table("remediations"), self.client("dynamodb"))

    @cached_property
    def llm_actions(self) -> LlmActionsRepository:
        return LlmActionsRepository(self.table("llm_actions"), self.client("dynamodb"))

    @cached_property
    def agent_decisions(self) -> AgentDecisionsRepository:
        return AgentDecisionsRepository(self.table("agent_decisions"), self.client("dynamodb"))

    @cached_property
    def notifications(self) -> NotificationsRepository | None:
        """None for a stack deployed before the notifier (its discovery document names no such table)."""
        name = self.stack["tables"].get("notifications")
        return NotificationsRepository(name, self.client("dynamodb")) if name else None

    @cached_property
    def fleet(self) -> FleetRepository:
        return FleetRepository(self.table("fleet"), self.client("dynamodb"))

    @cached_property
    def service_names(self) -> list[str]:
        """The fleet's services, as Terraform expanded the definition (no table scan needed)."""
        count = int(self.stack.get("service_count") or 0)
        specs = expand(load_definition(), count) if count else list(load_definition().services)
        return sorted(spec.name for spec in specs)

    @cached_property
    def tick_seconds(self) -> float:
        """The fleet's tick in simulated seconds, from Terraform's tick_schedule (a stack deployed before the
        discovery document said so ran the default: 60)."""
        value = self.stack.get("tick_seconds", DEFAULT_TICK_SECONDS)
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"discovery document: tick_seconds must be a positive number of seconds, got {value!r}")
        return seconds

    @property
    def tick_real_seconds(self) -> float:
        """One tick in real seconds (the fleet's clock runs ``time_scale`` times faster than the wall clock)."""
        return self.tick_seconds / self.time_scale

    @property
    def metrics_namespace(self) -> str:
        return str(self.stack.get("metrics_namespace") or "HealOps/Services")

    def log_group(self, service: str) -> str:
        pattern = str(self.stack.get("service_log_group_pattern") or "/healops/services/{service}")
        return pattern.replace("{service}", service)

    @property
    def artifacts_bucket(self) -> str | None:
        return (self.stack.get("buckets") or {}).get("artifacts")
