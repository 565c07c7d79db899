"""The guard: decides whether a proposed remediation may run, needs a human, or must not run.

Pure policy over a snapshot of what is happening (no AWS here): the remediator builds the
:class:`GuardSnapshot` from its tables and records the :class:`GuardVerdict` with its reasons.
The checks, in the order a refusal is reported:

1. allow-list: the action must be allowed for the service (a per-service list, or the default);
2. circuit breaker: after ``breaker_failures`` failed remediations of a service within
   ``breaker_window_s``, the service is left alone and the incident escalates;
3. cooldown: no second action on a service within the cooldown of the previous one: the larger of
   the policy's ``cooldown_s`` and the proposed action's own (its catalog entry's ``cooldown_s``);
4. concurrency: at most ``max_concurrent`` remediations in flight across the fleet;
5. approval: a human is asked for an action on another service than the incident's
   (``approve_other_services``: it reaches beyond the diagnosed fault), a scale-in that would leave fewer
   than ``scale_in_floor`` replicas, an action the operator lists in ``approval_actions`` (per service, or
   ``"*"``), and an action whose blast radius is at or above ``approval_blast_radius`` (an action on another
   service counts one level higher). Everything else, the catalog's standard fix on the incident's own
   service, runs without one (docs/architecture.md, "Who approves what");
6. dry run: everything is planned, guarded and audited, nothing acts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from healops.models.remediation import GuardDecision


class BlastRadius(IntEnum):
    """How much an action can break if it is wrong; ordered, so levels compare."""

    NONE = 0  # observe only
    LOW = 1  # one instance, reversible (restart one replica)
    MEDIUM = 2  # one service, reversible (scale, clear disk, throttle)
    HIGH = 3  # one service, hard to reverse (rollback, failover)
    CRITICAL = 4  # several services


@dataclass(frozen=True)
class GuardPolicy:
    """Limits, from SSM parameters / Terraform variables. ``allowed_actions`` maps a service (or
    ``"*"`` for every service without its own entry) to the actions it allows."""

    allowed_actions: Mapping[str, frozenset[str]]
    max_concurrent: int = 3
    cooldown_s: float = 300.0
    breaker_failures: int = 3
    breaker_window_s: float = 3600.0
    approval_blast_radius: BlastRadius = BlastRadius.HIGH
    dry_run: bool = False
    approve_other_services: bool = True
    scale_in_floor: int = 0
    approval_actions: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {self.max_concurrent}")
        if self.cooldown_s < 0 or self.breaker_window_s <= 0:
            raise ValueError("cooldown_s must be >= 0 and breaker_window_s > 0")
        if self.breaker_failures < 1:
            raise ValueError(f"breaker_failures must be at least 1, got {self.breaker_failures}")

    def allows(self, service: str, action: str) -> bool:
        allowed = self.allowed_actions.get(service, self.allowed_actions.get("*", frozenset()))
        return action in allowed

    def listed_for_approval(self, service: str, action: str) -> bool:
        """The operator listed ``action`` as one a human approves, for ``service`` or for every service."""
        return action in self.approval_actions.get(service, frozenset()) or action in self.approval_actions.get(
            "*", frozenset()
        )


@dataclass(frozen=True)
class GuardSnapshot:
    """What the guard needs to know about now: in-flight work and each service's history."""

    now: float
    in_flight: int = 0
    last_action_at: Mapping[str, float] = field(default_factory=dict)
    failures_at: Mapping[str, Sequence[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class GuardVerdict:
    decision: GuardDecision
    reasons: tuple[str, ...]
    dry_run: bool = False

    @property
    def may_act(self) -> bool:
        """True only when the action may change the fleet now."""
        return self.decision == GuardDecision.ALLOW and not self.dry_run


def breaker_open(policy: GuardPolicy, snapshot: GuardSnapshot, service: str) -> bool:
    recent = [t for t in snapshot.failures_at.get(service, ()) if snapshot.now - t <= policy.breaker_window_s]
    return len(recent) >= policy.breaker_failures


def decide(
    policy: GuardPolicy,
    snapshot: GuardSnapshot,
    service: str,
    action: str,
    blast_radius: BlastRadius,
    action_cooldown_s: float = 0.0,
    incident_service: str | None = None,
    replicas_left: int | None = None,
) -> GuardVerdict:
    """The verdict on running ``action`` on ``service`` now, with every reason in words; ``action_cooldown_s``
    is the action's own cooldown (its catalog entry's), which lengthens the policy's, never shortens it;
    ``incident_service``: the service of the incident being remediated, when known; ``replicas_left``: the
    replicas a scale-in would leave."""
    if not policy.allows(service, action):
        return GuardVerdict(GuardDecision.DENY, (f"{action} is not on the allow-list for {service}",), policy.dry_run)
    if breaker_open(policy, snapshot, service):
        return GuardVerdict(
            GuardDecision.DENY,
            (
                f"circuit breaker open for {service}: {policy.breaker_failures} or more failed remediations "
                f"in the last {policy.breaker_window_s:g} s; escalating instead of acting",
            ),
            policy.dry_run,
        )
    last = snapshot.last_action_at.get(service)
    cooldown_s = max(policy.cooldown_s, action_cooldown_s)
    if last is not None and snapshot.now - last < cooldown_s:
        wait = cooldown_s - (snapshot.now - last)
        whose = f"{action}'s own" if action_cooldown_s > policy.cooldown_s else "the policy's"
        return GuardVerdict(
            GuardDecision.DENY,
            (
                f"{service} is cooling down: last action {snapshot.now - last:.0f} s ago, {wait:.0f} s to go "
                f"(cooldown {cooldown_s:g} s, {whose})",
            ),
            policy.dry_run,
        )
    if snapshot.in_flight >= policy.max_concurrent:
        return GuardVerdict(
            GuardDecision.DENY,
            (f"{snapshot.in_flight} remediations in flight, at most {policy.max_concurrent} at once",),
            policy.dry_run,
        )
    reasons = [f"{action} is allowed for {service}", "circuit breaker closed", "no cooldown in force"]
    human = approval_reasons(policy, service, action, blast_radius, incident_service, replicas_left)
    if human:
        return GuardVerdict(GuardDecision.NEEDS_APPROVAL, tuple(reasons + human), policy.dry_run)
    if policy.dry_run:
        reasons.append("dry-run mode: planned and audited, not executed")
    return GuardVerdict(GuardDecision.ALLOW, tuple(reasons), policy.dry_run)


def approval_reasons(
    policy: GuardPolicy,
    service: str,
    action: str,
    blast_radius: BlastRadius,
    incident_service: str | None,
    replicas_left: int | None,
) -> list[str]:
    """Why a human must approve ``action`` on ``service`` (empty: it may run without one)."""
    reasons = []
    elsewhere = incident_service is not None and service != incident_service
    if elsewhere and policy.approve_other_services and blast_radius > BlastRadius.NONE:  # watching changes nothing
        reasons.append(f"{service} is not the incident's service ({incident_service}): a human must approve")
    if replicas_left is not None and replicas_left < policy.scale_in_floor:
        reasons.append(
            f"{action} would leave {replicas_left} replica(s), below the floor of {policy.scale_in_floor}: "
            "a human must approve"
        )
    if policy.listed_for_approval(service, action):
        reasons.append(f"the policy lists {action} on {service} for a human's approval")
    if elsewhere and blast_radius < BlastRadius.CRITICAL:
        blast_radius = BlastRadius(blast_radius + 1)  # it reaches beyond the fault
    if blast_radius >= policy.approval_blast_radius:
        reasons.append(
            f"blast radius {blast_radius.name} is at or above {policy.approval_blast_radius.name}: a human must approve"
        )
    return reasons
