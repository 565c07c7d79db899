"""Step Functions additions: what the Terraform provider calls and moto does not answer.

Supported:
- ``ValidateStateMachineDefinition`` (the provider calls it while planning): parses the
  definition with moto's own ASL parser and answers ``OK`` or ``FAIL`` with a diagnostic.
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
