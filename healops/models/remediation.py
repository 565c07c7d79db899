"""The remediation's words, shared by the engine, the remediations table and the dashboard.

StrEnums: a member is its stored string, so the table's items, the state machine's JSON and the
dashboard's filters keep the values they always had.
"""

from __future__ import annotations

from enum import StrEnum


class GuardDecision(StrEnum):
    """The guard's verdict on one proposed action."""

    ALLOW = "allow"
    NEEDS_APPROVAL = "needs_approval"
    DENY = "deny"


class AttemptOutcome(StrEnum):
    """What became of one remediation attempt (the ``outcome`` of its row), in the order a run meets them."""

    STARTED = "started"
    SKIPPED = "skipped"  # a precondition of the action was not met
    REFUSED = "refused"  # off the policy's allow-list
    DRY_RUN = "dry_run"  # the policy's dry run: recorded, not done
    AWAITING_APPROVAL = "awaiting_approval"
    DENIED = "denied"  # an operator said no
    REFUSED_AT_ACT = "refused_at_act"  # the guard's verdict no longer held when the act step ran
    FAILED = "failed"  # the action raised
    ACTED = "acted"
    VERIFIED = "verified"  # acted, and the service recovered
    NOT_RECOVERED = "not_recovered"  # acted, and it did not
    APPROVAL_TIMED_OUT = "approval_timed_out"  # nobody answered the approval in time
    INTERRUPTED = "interrupted"  # a step failed or timed out before the attempt acted


class Route(StrEnum):
    """Where a remediation run goes next: the state machine's Choice states follow ``$.run.route``."""

    GUARD = "guard"
    ACT = "act"
    AWAIT_APPROVAL = "await_approval"
    WAIT = "wait"
    VERIFY = "verify"
    NEXT = "next"
    RESOLVED = "resolved"
    ESCALATE = "escalate"
