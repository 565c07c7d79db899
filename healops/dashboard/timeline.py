"""Incident timeline pages over key queries: one GSI stream, or several merged newest first.

"All incidents" is four ``by_status`` queries merged by ``opened_at``; a service filter is one
``by_service`` query (its status filter applied to what it reads). The page token carries each
stream's own cursor (the key of the last item taken from it), so paging never scans and never
repeats or skips an item.
"""

from __future__ import annotations

import base64
import heapq
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from healops.store.base import Page, encode_page_token

# A stream reads one page: (limit, token) -> Page, newest first.
Reader = Callable[[int, str | None], Page]
DONE = "done"
# How many pages one stream may read to fill a filtered page before returning what it has.
MAX_PAGES_PER_STREAM = 5


class BadPageTokenError(ValueError):
    pass


@dataclass(frozen=True)
class Stream:
    name: str
    read: Reader
    key_fields: tuple[str, ...]
    keep: Callable[[Mapping[str, Any]], bool] = lambda _item: True


def encode_cursors(cursors: Mapping[str, str | None]) -> str | None:
    if all(v == DONE for v in cursors.values()):
        return None
    return base64.urlsafe_b64encode(json.dumps(dict(cursors), sort_keys=True).encode()).decode()


def decode_cursors(token: str | None, names: list[str]) -> dict[str, str | None]:
    if not token:
        return dict.fromkeys(names)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise BadPageTokenError("page token is not one this API issued (filters changed? start again)") from None
    if not isinstance(decoded, dict) or set(decoded) != set(names):
        raise BadPageTokenError("page token does not match these filters: start again from the first page")
    return decoded


def _read_stream(stream: Stream, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` kept items after ``cursor``; the cursor after everything read (None: exhausted)."""
    kept: list[dict[str, Any]] = []
    token = cursor
    for _ in range(MAX_PAGES_PER_STREAM):
        page = stream.read(limit, token)
        for item in page.items:
            if stream.keep(item):
                kept.append(item)
                if len(kept) == limit:
                    return kept, _key_token(stream, item)
        token = page.next_token
        if token is None:
            return kept, None
    return kept, token


def _key_token(stream: Stream, item: Mapping[str, Any]) -> str | None:
    return encode_page_token({k: item[k] for k in stream.key_fields})


def _one_by_one(*calls: Callable[[], Any]) -> list[Any]:
    return [call() for call in calls]


def merged_page(
    streams: list[Stream], limit: int, token: str | None, run_all: Callable[..., list[Any]] = _one_by_one
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of at most ``limit`` items, newest ``opened_at`` first, across ``streams``.

    ``run_all(*calls)`` runs the streams' reads (at once, given a pool; one by one by default).
    """
    cursors = decode_cursors(token, [s.name for s in streams])
    live = [s for s in streams if cursors[s.name] != DONE]
    pages = run_all(*[lambda s=s: _read_stream(s, cursors[s.name], limit) for s in live])
    read: dict[str, tuple[list[dict[str, Any]], str | None]] = {
        s.name: page for s, page in zip(live, pages, strict=True)
    }
    tagged = [[(item["opened_at"], name, i, item) for i, item in enumerate(items)] for name, (items, _) in read.items()]
    taken = list(heapq.merge(*tagged, key=lambda t: t[0], reverse=True))[:limit]
    counts = {name: 0 for name in read}
    for _opened, name, _i, _item in taken:
        counts[name] += 1
    by_name = {s.name: s for s in streams}
    for name, (items, after) in read.items():
        if counts[name] == len(items):
            # Everything it read was taken: continue after what it read (or it is exhausted).
            cursors[name] = after if after is not None else DONE
        elif counts[name] > 0:
            cursors[name] = _key_token(by_name[name], items[counts[name] - 1])
        # A stream none of whose items were taken keeps its cursor.
    return [t[3] for t in taken], encode_cursors(cursors)
