"""Lambda alias additions: Invoke that honours its Qualifier, traffic split by an alias's weights, and
aliases that change revision.

moto 5.2.5 runs $LATEST for ``Invoke(Qualifier=...)`` (it reads a lower-case ``qualifier`` query
parameter; boto3 sends ``Qualifier``; ``FunctionName="name:alias"`` does work), resolves an alias to
its ``FunctionVersion`` but ignores ``RoutingConfig``, keeps an alias's ``RevisionId`` across updates
and ignores UpdateAlias's ``RevisionId`` (measured in docs/lab-notes.md).

Supported:
- ``Invoke`` with ``Qualifier`` (a version, an alias or ``$LATEST``) runs that qualifier.
- ``Invoke`` through an alias with ``RoutingConfig.AdditionalVersionWeights`` runs each
  additional version for its weight's share of invocations (drawn at random per invocation), the
  alias's ``FunctionVersion`` for the rest; ``ExecutedVersion`` (answered by
  :mod:`healops.local.awslambda`, which must be installed before this) names the version that ran.
- ``UpdateAlias`` gives the alias a new ``RevisionId``, and refuses a ``RevisionId`` that is not the
  alias's current one with ``PreconditionFailedException`` (412), so two writers cannot both move
  an alias from the same state.

Limits: invocations that do not come through the Invoke API (event source mappings, Step
Functions tasks, EventBridge targets reach ``LambdaFunction`` directly) run the alias's
``FunctionVersion`` and ignore its weights; ``RoutingConfig`` is not validated (AWS refuses
weights outside [0, 1], ``$LATEST`` and the primary version as additional versions).
"""

from __future__ import annotations

from healops.local.lambdaaliases.models import AliasRouting, choose_version

__all__ = ["AliasRouting", "choose_version"]
