"""The simulated fleet: its definition, faults, telemetry model, actions and the fleet adapter.

Pure modules (``definition``, ``faults``, ``actions``, ``telemetry``, ``clock``) hold the rules
and are tested without AWS (the records they act on, ``ServiceSpec`` and ``ServiceState``, are in
``healops.models.fleet``); ``simulated``, ``injector``, ``generator`` and ``archive``
apply them through injected clients and repositories (``healops.store.fleet``,
``healops.store.injections``). See docs/architecture.md, "The simulated fleet".
"""
