"""Every benchmark's command line: ``healops bench NAME [--json] ...``, its help in plain text."""

from __future__ import annotations

import argparse

from healops.cli.text import plain


def bench_parser(name: str, doc: str | None, own_json: bool = False) -> argparse.ArgumentParser:
    """The parser of ``healops bench NAME``: the module's docstring as plain help, and ``--json``.

    ``--json`` is acted on by the ``healops bench`` dispatcher (figures as one JSON document on stdout, what
    the bench prints sent to stderr); the bench only declares it so its help lists it and its parser accepts it.
    A bench that writes its own JSON document (``own_json``, ``Bench.own_json`` in the dispatcher) declares its own.
    """
    parser = argparse.ArgumentParser(
        prog=f"healops bench {name}", description=plain(doc), formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if own_json:
        return parser
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the figures as one JSON document on stdout (tables as rows, k=v figures as numbers); "
        "progress and the usual text go to stderr",
    )
    return parser
