"""``healops bench redaction``: the rule sets on the redaction corpus (tests/data/redaction_corpus.json).

For each rule set: secrets caught of N (the secret's text no longer in the redacted text), innocents masked of M
(an innocent look-alike changed at all), time per redaction, and for detect-secrets its import time. The rule sets:
``healops.redaction`` (the hand-kept patterns the functions ship), and, when the ``detect_secrets`` package is
importable, detect-secrets' plugins (its default settings: every plugin and filter, each text scanned as a file,
the secrets they report masked), alone and after the hand-kept patterns. detect-secrets is not a dependency:
install it in a separate environment to measure it (``pip install detect-secrets==1.5.0``).
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from healops.bench.cli import bench_parser
from healops.bench.console import bench_console
from healops.paths import PROJECT_ROOT
from healops.redaction import MASK, redact

CORPUS = PROJECT_ROOT / "tests" / "data" / "redaction_corpus.json"
console = bench_console()


def score(rules: Callable[[str], str], corpus: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    missed = [c["shape"] for c in corpus["secrets"] if c["secret"] in rules(c["text"])]
    masked = [c["shape"] for c in corpus["innocents"] if rules(c["text"]) != c["text"]]
    runs = len(corpus["secrets"]) + len(corpus["innocents"])
    return {
        "caught": len(corpus["secrets"]) - len(missed),
        "secrets": len(corpus["secrets"]),
        "masked": len(masked),
        "innocents": len(corpus["innocents"]),
        "missed_shapes": missed,
        "masked_shapes": masked,
        "ms_per_text": (time.perf_counter() - started) * 1000 / (2 * runs),
    }


def detect_secrets_rules() -> tuple[Callable[[str], str], float]:
    """detect-secrets' default plugins and filters as a redactor (each secret value it reports masked), and its
    import time. Each text is scanned as a file (``scan_file``), so the entropy limits and false-positive filters
    apply as in ``detect-secrets scan``; ``scan_line`` (ad-hoc strings) reports every candidate unfiltered."""
    started = time.perf_counter()
    scan = importlib.import_module("detect_secrets.core.scan")
    settings = importlib.import_module("detect_secrets.settings")
    import_s = time.perf_counter() - started
    work = Path(tempfile.mkdtemp(prefix="redaction-bench-"))

    def redact_with_plugins(text: str) -> str:
        path = work / "corpus.txt"
        path.write_text(text)
        with settings.default_settings():
            found = {s.secret_value for s in scan.scan_file(str(path)) if s.secret_value}
        for value in sorted(found, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    return redact_with_plugins, import_s


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser("redaction", __doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the corpus (JSON: secrets, innocents)")
    parser.add_argument("--show", action="store_true", help="list the shapes missed and the innocents masked")
    args = parser.parse_args(argv)
    corpus = json.loads(args.corpus.read_text())
    rule_sets: list[tuple[str, Callable[[str], str], float | None]] = [("healops.redaction (hand-kept)", redact, None)]
    try:
        plugins, import_s = detect_secrets_rules()
        rule_sets.append(("detect-secrets plugins", plugins, import_s))
        rule_sets.append(("hand-kept, then detect-secrets plugins", lambda t: plugins(redact(t)), import_s))
    except ImportError:
        console.print("detect-secrets is not installed here: measuring the hand-kept patterns only")
    for name, rules, import_s in rule_sets:
        result = score(rules, corpus)
        extra = f", import {import_s * 1000:.0f} ms" if import_s is not None else ""
        console.print(
            f"{name}: secrets caught {result['caught']} of {result['secrets']}, innocents masked "
            f"{result['masked']} of {result['innocents']}, {result['ms_per_text']:.3f} ms a text{extra}"
        )
        if args.show:
            console.print(f"  missed: {result['missed_shapes']}\n  masked: {result['masked_shapes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
