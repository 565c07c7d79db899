"""Errors a deployment reports to the user: each says what went wrong and what to do."""

from __future__ import annotations


class DeployError(RuntimeError):
    """A deployment step failed; the message names the cause and the remedy."""
