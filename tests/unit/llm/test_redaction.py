"""Each kind of secret is masked; ordinary log text is left alone."""

from __future__ import annotations

import pytest

from healops.llm.redaction import MASK, Redactor

PLANTED = {
    "aws_access_key": ("key id AKIAIOSFODNN7EXAMPLE in config", "AKIAIOSFODNN7EXAMPLE"),
    "aws_secret_key": (
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    "bare_aws_secret": (
        "creds wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    "bearer": ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abcdef", "eyJhbGciOiJIUzI1NiJ9abcdef"),
    "openai_key": ("using sk-proj-AbCdEfGhIjKlMnOpQrStUv", "sk-proj-AbCdEfGhIjKlMnOpQrStUv"),
    "nvidia_key": ("NVIDIA nvapi-AbCdEfGhIjKlMnOpQrStUv12", "nvapi-AbCdEfGhIjKlMnOpQrStUv12"),
    "google_key": ("key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"),
    "generic_api_key": ('{"api_key": "abc123secretvalue"}', "abc123secretvalue"),
    "url_password": ("dsn postgres://admin:hunter2pass@db:5432/app", "hunter2pass"),
    "email": ("user jane.doe@example.org logged in", "jane.doe@example.org"),
    "jwt": (
        "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    ),
}


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_kind_of_secret_is_masked(kind: str) -> None:
    text, secret = PLANTED[kind]
    redacted = Redactor()(text)
    assert secret not in redacted
    assert MASK in redacted


def test_configured_keys_are_masked_verbatim_whatever_their_shape() -> None:
    redact = Redactor(["plainword-but-a-key-42"])
    assert redact("echo plainword-but-a-key-42 now") == f"echo {MASK} now"


def test_ordinary_log_lines_are_kept() -> None:
    line = "GET /api/cart 503 in 1834ms trace=4bf92f3577b34da6a3ce929d0e0e4736 replicas=3 cpu=97.5%"
    assert Redactor()(line) == line


def test_a_commit_sha_or_a_lowercase_path_of_forty_characters_is_not_taken_for_a_secret_key() -> None:
    sha = "deployed 9fceb02d0ae598e95dc970b74767f19372d61af8 to checkout"
    path = "read /var/lib/checkout/segments/0001/indexes/ failed"  # a path of 40 characters
    assert Redactor()(sha) == sha and Redactor()(path) == path
