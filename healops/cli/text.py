"""Docstrings as plain text for ``--help``: the modules' reStructuredText roles and literals stripped."""

from __future__ import annotations

import re

# :class:`healops.x.Y`, :func:`~healops.x.f` (``~``: the last name only), :mod:`x`, ...
_ROLE = re.compile(r":[a-z]+:`(~?)([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_EMPHASIS = re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])")


def _role_target(match: re.Match[str]) -> str:
    short, target = match.groups()
    return target.rsplit(".", 1)[-1] if short else target


def plain(doc: str | None) -> str:
    """``doc`` without reStructuredText markup: roles become their target, ````x```` and ``*x*`` become x."""
    text = _ROLE.sub(_role_target, doc or "")
    text = _LITERAL.sub(r"\1", text)
    return _EMPHASIS.sub(r"\1", text).strip()
