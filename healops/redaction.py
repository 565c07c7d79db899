"""Secrets out of text before it reaches a prompt, a table, a message or a log line.

Patterns cover AWS access keys and secret keys, bearer tokens, JWTs, vendor API keys (OpenAI
``sk-``, NVIDIA ``nvapi-``, Google ``AIza``, GitHub, Slack), ``key=value`` secrets, passwords in
URLs and e-mail addresses. The configured API keys themselves are redacted verbatim too, so a
model that repeats one (or a log that contains one) never carries it further.

A top-level module with no dependencies: the reasoner (:mod:`healops.llm.redaction` re-exports it),
every repository's write (:mod:`healops.store.base`), every client's write to a queue, topic, bucket or state
machine (:mod:`healops.egress`), every log line (:mod:`healops.logs`) and the escalation use it, and a function
that only stores incidents (the detector) packs this file, not the reasoner and its SDKs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MASK = "[REDACTED]"

# Order matters: whole blocks and specific shapes first, then the generic key=value rules.
_B64 = r"[A-Za-z0-9+/=]"
_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # A PEM or OpenSSH private key, whole, also inside a JSON string (its newlines written as \n); certificates
    # and public keys are not secrets and stay.
    (
        "private_key",
        re.compile(
            r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
            r"(?:[\s\S](?!-----END))*?[\s\S]?-----END \1-----"
        ),
        f"-----BEGIN PRIVATE KEY-----{MASK}-----END PRIVATE KEY-----",
    ),
    # A private key cut short (a log line that ends inside it): everything from its header on.
    ("private_key_head", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:\\n|\s|" + _B64 + r")+"), MASK),
    ("url_password", re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{1,20}://[^\s:/@]*):[^\s@]+@(?=[^\s@]*)"), rf"\1:{MASK}@"),
    (
        "slack_webhook",
        re.compile(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_\-]+"),
        rf"\1{MASK}",
    ),
    ("azure_sas", re.compile(r"(?i)\b(sig=)[A-Za-z0-9%+/=\-_]{16,}"), rf"\1{MASK}"),
    # Signed or not (alg none ends with a dot and nothing after it).
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{4,}\.(?:[A-Za-z0-9_\-]{8,})?"), MASK),
    ("jwt_signed", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), MASK),
    # The HTTP schemes, any length: "Basic"/"Bearer" as headers write them, or after "authorization" in any case;
    # the lower-case word in prose ("the bearer of bad news") needs a token-sized value (token_word).
    (
        "basic_auth",
        re.compile(r"\b(Basic|(?i:authorization\"?\s*[:=]\s*\"?basic))\s+[A-Za-z0-9+/]{8,}={0,2}"),
        rf"\1 {MASK}",
    ),
    (
        "bearer",
        re.compile(r"\b(Bearer|(?i:authorization\"?\s*[:=]\s*\"?bearer))\s+[A-Za-z0-9\-._~+/]+=*"),
        rf"\1 {MASK}",
    ),
    ("token_word", re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9\-._~+/]{12,}=*"), rf"\1 {MASK}"),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b"), MASK),
    (
        "vendor_key",
        re.compile(
            r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}|nvapi-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}"
            r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|xox[abposr]-[A-Za-z0-9\-]{10,}"
            r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{16,}"
            r"|ya29\.[A-Za-z0-9_\-]{20,}|GOCSPX-[A-Za-z0-9_\-]{20,}|1//0[A-Za-z0-9_\-]{30,})"
        ),
        MASK,
    ),
    # Cookies: every value of a Cookie or Set-Cookie header, and session ids wherever they are named.
    ("cookie_header", re.compile(r"(?im)^((?:set-)?cookie:\s*)(.+)$"), rf"\1{MASK}"),
    (
        "session_id",
        re.compile(r"(?i)\b([a-z0-9_.\-]*(?:sess(?:ion)?(?:_?id)?|sid))(\"?\s*[:=]\s*\"?)[A-Za-z0-9%\-_.+/]{8,}"),
        rf"\1\2{MASK}",
    ),
    # A quoted value of a password-like key, spaces and all ("correct horse battery staple").
    (
        "quoted_password",
        re.compile(r"(?i)\b([a-z0-9_\-]*(?:password|passwd|passphrase|pwd|secret))(\"?\s*[:=]\s*)([\"'])[^\"'\n]+\3"),
        rf"\1\2\3{MASK}\3",
    ),
    (
        "key_value",
        re.compile(
            r"(?i)\b([a-z0-9_\-]*(?:secret|password|passwd|passphrase|pwd|api[_\-]?key|access[_\-]?key|token"
            r"|credential)s?)(\"?\s*(?:[:=|]|\t)\s*\"?)[^\s\"',;&]{4,}"
        ),
        rf"\1\2{MASK}",
    ),
    # AWS session tokens: long base64 (FwoGZXIvYXdz... or IQoJb3JpZ2lu...), named or not.
    ("aws_session_token", re.compile(r"\b(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{40,}"), MASK),
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


# Values that only their name makes secret (a password of words, a basic credential in lower case, a session id,
# a cookie): a name that makes one of them masked is context, and its values are redacted behind it.
_CONTEXT_PROBES = ("probevalue12345678", "probe value words", "basic cHJvYmV2YWx1ZTEy")


def _behind_name(name: str, text: str, redactor: Callable[[str], str]) -> str:
    for prefix, suffix in ((f"{name}: ", ""), (f'"{name}": "', '"')):  # as a header writes it, as JSON quotes it
        named = redactor(prefix + text + suffix)
        # A name caught with its value (it should not be) leaves the value as redacted so far.
        if named.startswith(prefix) and named.endswith(suffix):
            text = named[len(prefix) : len(named) - len(suffix)]
    return text


@functools.lru_cache(maxsize=4096)
def _gives_context(name: str, redactor: Callable[[str], str]) -> bool:
    return any(redactor(p) == p and _behind_name(name, p, redactor) != p for p in _CONTEXT_PROBES)


def redact_named(name: str, text: str, redactor: Callable[[str], str] = redact) -> str:
    """``text`` redacted as the value of the field ``name`` (a JSON key, a log line's extra key): ``"password":
    "two words"`` or ``"authorization": "basic dTo3..."`` is a secret that ``two words`` or ``basic dTo3...`` alone
    is not. The value is redacted alone, then, under a name that gives context (decided once a name, by what it
    makes of a few probe values), behind its name."""
    text = redactor(text)
    return _behind_name(name, text, redactor) if _gives_context(name, redactor) else text


def redact_value(value: Any, redactor: Callable[[str], str] = redact) -> Any:
    """``value`` with every string in it redacted, in lists and mappings too (mapping keys are kept, and a string
    under a key is redacted as that key's value: :func:`redact_named`)."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, Mapping):
        return {
            k: redact_named(str(k), v, redactor) if isinstance(v, str) else redact_value(v, redactor)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v, redactor) for v in value]
    return value
