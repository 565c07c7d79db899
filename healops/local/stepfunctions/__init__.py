"""Step Functions additions: what the Terraform provider calls and moto does not answer.

Supported:
- ``ValidateStateMachineDefinition`` (the provider calls it while planning): answers ``OK``, or
  ``FAIL`` with diagnostics (severity, code, message, location) for a definition that is not
  JSON (``INVALID_JSON_DESCRIPTION``), that moto's own ASL parser refuses
  (``SCHEMA_VALIDATION_FAILED``), or whose transitions name a state missing from their scope or
  leave a state unreachable (``MISSING_TRANSITION_TARGET``, which the parser does not check).
  ``CreateStateMachine`` itself is moto's and does not run these checks.
- ``ListStateMachineVersions`` (the provider calls it while creating): lists the published
  versions moto keeps for the machine.
- ``Wait`` states end ``time_scale`` times sooner (see :class:`EmbeddedContext`).

Executions themselves run in moto's ASL interpreter (``execute_state_machine`` is switched on
by the server); Lambda tasks reach functions through moto's Lambda backend and so through
:mod:`healops.local.awslambda`.
"""

from __future__ import annotations

from healops.local.stepfunctions.models import StepFunctionsExtras

__all__ = ["StepFunctionsExtras"]
