"""Heal-Ops: autonomous incident detection, prediction and remediation."""

from __future__ import annotations

__version__ = "0.1.0"
