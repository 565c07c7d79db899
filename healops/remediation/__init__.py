"""Remediation: the typed action catalog, the guard, the planner, executor and verifier.

Only the guard has landed so far (:mod:`healops.remediation.guard`): pure policy decisions that
the remediator's guard step applies before any action runs.
"""
