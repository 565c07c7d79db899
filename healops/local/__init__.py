"""The embedded AWS-compatible cloud: moto's server plus what moto lacks.

Each extension lives in its own subpackage in moto's shape and is listed in
:mod:`healops.local.extensions`. :class:`~healops.local.server.EmbeddedCloud` installs them
(patches of moto's backends, applied before the first request) and runs their background
work (schedulers, pollers, evaluators).
"""

from __future__ import annotations

from healops.local.context import EmbeddedContext
from healops.local.server import EmbeddedCloud, PortInUseError

__all__ = ["EmbeddedCloud", "EmbeddedContext", "PortInUseError"]
