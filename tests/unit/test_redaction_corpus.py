"""The redactor on a corpus of secret shapes and innocent look-alikes (tests/data/redaction_corpus.json): every
secret masked, no innocent changed. ``healops bench redaction`` prints the same counts, and those of detect-secrets'
plugins when it is installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from healops.redaction import redact, redact_value

CORPUS = json.loads((Path(__file__).parent.parent / "data" / "redaction_corpus.json").read_text())


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(CORPUS["secrets"]) >= 60 and len(CORPUS["innocents"]) >= 60


@pytest.mark.parametrize("case", CORPUS["secrets"], ids=lambda c: c["shape"])
def test_every_secret_shape_is_masked(case: dict[str, Any]) -> None:
    assert case["secret"] in case["text"]  # the corpus itself: the secret is there to find
    assert case["secret"] not in redact(case["text"])


@pytest.mark.parametrize("case", CORPUS["innocents"], ids=lambda c: c["shape"])
def test_an_innocent_look_alike_is_left_alone(case: dict[str, Any]) -> None:
    assert redact(case["text"]) == case["text"]


def test_a_private_key_is_masked_whole_and_a_certificate_is_not() -> None:
    [key] = [c for c in CORPUS["secrets"] if c["shape"] == "PEM RSA private key"]
    masked = redact(key["text"])
    assert masked.startswith("loaded key:\n") and masked.endswith("\nfrom disk")
    assert all(line not in masked for line in key["text"].splitlines()[2:-2])


JSON_DOCUMENTS = [c for c in CORPUS["secrets"] if c["text"].startswith(("{", "["))]


@pytest.mark.parametrize("case", JSON_DOCUMENTS, ids=lambda c: c["shape"])
def test_a_secret_in_a_json_document_is_masked_when_redacted_value_by_value(case: dict[str, Any]) -> None:
    """A queue body, an S3 object, a log line's extra keys and a table item are redacted value by value (so they
    stay JSON); a field's name is the context that makes its value a secret ("password": "two words here")."""
    assert case["secret"] not in json.dumps(redact_value(json.loads(case["text"])))


@pytest.mark.parametrize("name", ["detail", "summary", "message", "reason", "line", "version", "user", "evidence_key"])
def test_an_innocent_look_alike_under_an_ordinary_name_is_left_alone(name: str) -> None:
    assert [c["shape"] for c in CORPUS["innocents"] if redact_value({name: c["text"]})[name] != c["text"]] == []
