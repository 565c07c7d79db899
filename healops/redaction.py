"""Secrets out of text before it reaches a prompt, a table, a message or a log line.

Patterns cover AWS access keys and secret keys, bearer tokens, JWTs, vendor API keys (OpenAI
``sk-``, NVIDIA ``nvapi-``, Google ``AIza``, GitHub, Slack), ``key=value`` secrets, passwords in
URLs and e-mail addresses. The configured API keys themselves are redacted verbatim too, so a
model that repeats one (or a log that contains one) never carries it further.

A top-level module with no dependencies: the reasoner (:mod:`healops.llm.redaction` re-exports it),
every repository's write (:mod:`healops.store.base`) and the escalation use it, and a function that
only stores incidents (the detector) vendors this file, not the reasoner and its SDKs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"

# Order matters: specific shapes first, then the generic key=value rule.
_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("url_password", re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{1,20}://[^\s:/@]+):[^\s@/]+@"), rf"\1:{MASK}@"),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), MASK),
    ("bearer", re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9\-._~+/]{12,}=*"), rf"\1 {MASK}"),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b"), MASK),
    (
        "vendor_key",
        re.compile(
            r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}|nvapi-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}"
            r"|gh[pousr]_[A-Za-z0-9]{30,}|xox[abposr]-[A-Za-z0-9\-]{10,})"
        ),
        MASK,
    ),
    (
        "key_value",
        re.compile(
            r"(?i)\b([a-z0-9_\-]*(?:secret|password|passwd|pwd|api[_\-]?key|access[_\-]?key|token|credential)s?)"
            r"(\"?\s*[:=]\s*\"?)[^\s\"',;&]{4,}"
        ),
        rf"\1\2{MASK}",
    ),
    # 40 base64 characters with upper and lower case letters: a random key lacks either with odds under 2e-9,
    # while a commit SHA (hex) or a lowercase path or word of that length is not a key and stays readable
    (
        "aws_secret_key",
        re.compile(
            r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        MASK,
    ),
    ("email", re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"), MASK),
)


class Redactor:
    """Replaces secrets in text by ``[REDACTED]``; ``known_secrets`` (the configured keys) verbatim."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        # Short values would redact ordinary words; real keys are long.
        self._known = sorted({s for s in known_secrets if s and len(s) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._known:
            text = text.replace(secret, MASK)
        for _, pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


redact = Redactor()
