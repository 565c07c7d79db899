"""Remediation: the typed action catalog, the guard, and the engine whose steps the state machine runs.

- :mod:`.catalog`: the nine actions (parameters, preconditions, blast radius, cooldown, compensation,
  verification rule); :mod:`.guard` and :mod:`.policy`: whether one may run, from the SSM limits.
- :mod:`.engine`: plan, guard, approval, act, verify, escalate; :mod:`.run`: the state they pass on.
- :mod:`.verification`, :mod:`.sizing`, :mod:`.telemetry`: bands, scale-out sizing, metrics per tick.
- :mod:`.wiring`: the engine on boto3 clients from a function's environment.
"""
