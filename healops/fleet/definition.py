"""The fleet definition: one versioned file (``fleet.json``) and its deterministic expansion.

The file names eight services and their call graph. A fleet of ``size`` services is the named
ones followed by copies of the graph: service ``i >= len(named)`` is a copy of named service
``i % len(named)`` in replica group ``g = i // len(named)``, named ``<name>-<g>``, and it depends
on the copies of its original's dependencies in the same group (whose index may lie past
``size``: such edges are dropped). Terraform derives its alarms and log groups with the same
rule (``terraform/fleet.tf``), so both agree without a second list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from healops.models.fleet import ServiceSpec

MAX_FLEET_SIZE = 5000


class FleetDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    description: str = ""
    services: tuple[ServiceSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _graph_is_closed_and_acyclic(self) -> FleetDefinition:
        names = [s.name for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError("service names must be unique")
        known = set(names)
        for spec in self.services:
            unknown = [d for d in spec.depends_on if d not in known]
            if unknown:
                raise ValueError(f"{spec.name}: depends_on names unknown services {unknown}")
        _topological_order({s.name: s.depends_on for s in self.services})
        return self

    @property
    def digest(self) -> str:
        """A short hash of the definition (Terraform re-seeds when it changes)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _topological_order(graph: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Dependencies first; a cycle is an error naming a service on it."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise ValueError(f"depends_on has a cycle: {' -> '.join((*path, name))}")
        state[name] = 1
        for dep in graph.get(name, ()):
            visit(dep, (*path, name))
        state[name] = 2
        order.append(name)

    for name in graph:
        visit(name, ())
    return order


DEFINITION_FILE = "fleet.json"


def parse_definition(data: Mapping[str, Any] | str | bytes) -> FleetDefinition:
    if isinstance(data, str | bytes):
        return FleetDefinition.model_validate_json(data)
    return FleetDefinition.model_validate(data)


def load_definition(path: Path | None = None) -> FleetDefinition:
    """The definition in ``path``, or the one shipped with the package."""
    if path is not None:
        return parse_definition(path.read_bytes())
    return _packaged_definition()


@cache
def _packaged_definition() -> FleetDefinition:
    return parse_definition(resources.files("healops.fleet").joinpath(DEFINITION_FILE).read_bytes())


def _jitter(name: str, field: str, spread: float) -> float:
    """A deterministic factor in [1 - spread, 1 + spread] per (service, field)."""
    digest = hashlib.blake2b(f"{name}:{field}".encode(), digest_size=8).digest()
    return 1.0 + spread * (2.0 * int.from_bytes(digest, "big") / 2**64 - 1.0)


def expand(definition: FleetDefinition, size: int) -> list[ServiceSpec]:
    """The first ``size`` services of the fleet (named ones, then copies of the graph)."""
    named = list(definition.services)
    if not 1 <= size <= MAX_FLEET_SIZE:
        raise ValueError(f"fleet size must be between 1 and {MAX_FLEET_SIZE}, got {size}")
    if size <= len(named):
        kept = {s.name for s in named[:size]}
        return [s.model_copy(update={"depends_on": tuple(d for d in s.depends_on if d in kept)}) for s in named[:size]]
    index = {s.name: i for i, s in enumerate(named)}
    specs = list(named)
    for i in range(len(named), size):
        original, group = named[i % len(named)], i // len(named)
        name = f"{original.name}-{group}"
        deps = tuple(f"{d}-{group}" for d in original.depends_on if group * len(named) + index[d] < size)
        base = original.baseline
        # Copies differ a little from their original (by name, deterministically), as real services do.
        baseline = base.model_copy(
            update={
                "rps": round(base.rps * _jitter(name, "rps", 0.2), 2),
                "cpu_pct": round(base.cpu_pct * _jitter(name, "cpu", 0.15), 2),
                "latency_p50_ms": round(base.latency_p50_ms * _jitter(name, "p50", 0.15), 2),
                "latency_p99_ms": round(base.latency_p99_ms * _jitter(name, "p50", 0.15), 2),
            }
        )
        specs.append(original.model_copy(update={"name": name, "depends_on": deps, "baseline": baseline}))
    return specs


def dependency_graph(size: int, definition: FleetDefinition | None = None) -> dict[str, tuple[str, ...]]:
    """Service -> the services it depends on, for the fleet of ``size`` services (what the detector correlates
    along and the planner reasons over)."""
    return {spec.name: spec.depends_on for spec in expand(definition or load_definition(), size)}
