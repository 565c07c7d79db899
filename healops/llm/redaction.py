"""Secrets out of text before it reaches a prompt, a table or a log line: :class:`Redactor` and its
patterns live in :mod:`healops.redaction` (the store redacts every write with it without importing the
reasoner); re-exported here for the reasoner's modules.
"""

from __future__ import annotations

from healops.redaction import MASK, Redactor, redact

__all__ = ["MASK", "Redactor", "redact"]
