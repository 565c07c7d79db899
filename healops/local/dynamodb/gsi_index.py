"""One global secondary index of one moto table: its items grouped by GSI hash key, kept sorted.

Sorted on write (insertion with ``bisect``) rather than sorted lazily on read: a write moves
one entry (``O(log k)`` comparisons of native tuples plus a C-level ``memmove``), while a lazy
sort would make the first query after every write pay ``O(k log k)``. Heal-Ops interleaves
writes and GSI reads on the same tables (the detector writes incidents while the dashboard
lists them), so the lazy variant would sort on nearly every read.

The order is moto's own: ``Table.sorted_items`` sorts a GSI's candidates by the tuple of
``DynamoType`` values of (GSI hash keys, GSI range keys, table hash key, table range key).
Within one partition the GSI hash values are equal, so the remaining attributes decide, and
comparing their ``cast_value`` (``str``, ``Decimal``, base64 ``str``) orders exactly as moto's
``DynamoType.__eq__``/``__lt__`` do *as long as every value of one attribute has the same
type*. Items whose key attributes have another type (moto, unlike DynamoDB, accepts them)
are counted as ``mistyped``; while any exist, the index declines and moto answers.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Types whose cast_value is hashable and totally ordered within the type.
INDEXABLE_TYPES = frozenset({"S", "N", "B"})

PrimaryKey = tuple[Hashable, Hashable]
SortKey = tuple[Any, ...]


@dataclass
class Partition:
    """The items of one GSI hash key value, ascending in moto's order."""

    keys: list[SortKey] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)

    def insert(self, key: SortKey, item: Any) -> None:
        at = bisect.bisect_left(self.keys, key)
        self.keys.insert(at, key)
        self.items.insert(at, item)

    def remove(self, key: SortKey, item: Any) -> bool:
        """Remove ``item`` filed under ``key``; False if it is not where the key says."""
        at = bisect.bisect_left(self.keys, key)
        if at >= len(self.keys) or self.keys[at] != key or self.items[at] is not item:
            return False
        del self.keys[at]
        del self.items[at]
        return True


@dataclass
class _Entry:
    """Where one item is filed, as computed when it was filed."""

    partition_key: tuple[Any, ...] | None
    sort_key: SortKey | None
    item: Any
    mistyped: bool


class GsiIndex:
    """Items of one table filed by one GSI's key attributes.

    ``hash_attrs`` are the GSI's HASH attributes and ``range_attrs`` its RANGE attributes (in
    schema order); ``sort_attrs`` the attributes moto sorts a partition by after the GSI hash
    attributes; ``expected_types`` maps an attribute to the type its values must have (from
    the table's AttributeDefinitions); attributes without one take the first type seen.
    """

    def __init__(
        self,
        signature: tuple[tuple[str, str], ...],
        hash_attrs: list[str],
        range_attrs: list[str],
        sort_attrs: list[str],
        expected_types: dict[str, str],
    ) -> None:
        self.signature = signature
        self.hash_attrs = list(hash_attrs)
        self.range_attrs = list(range_attrs)
        self.sort_attrs = list(sort_attrs)
        self._types = dict(expected_types)
        self._required = list(dict.fromkeys(self.hash_attrs + self.range_attrs))
        self.partitions: dict[tuple[Any, ...], Partition] = {}
        self._entries: dict[PrimaryKey, _Entry] = {}
        self.mistyped = 0

    @property
    def usable(self) -> bool:
        return self.mistyped == 0

    def __len__(self) -> int:
        return sum(len(p.items) for p in self.partitions.values())

    def _type_ok(self, attr: str, value: Any) -> bool:
        if value.type not in INDEXABLE_TYPES:
            return False
        expected = self._types.setdefault(attr, value.type)
        return value.type == expected

    def _file(self, item: Any) -> _Entry:
        attrs = item.attrs
        for attr in self._required:
            # moto tests presence with truthiness (`item.attrs.get(name)`); DynamoType is
            # always truthy, so presence is the test: a sparse index, as in DynamoDB.
            if attrs.get(attr) is None:
                return _Entry(None, None, item, mistyped=False)
        key_attrs = self._required + [a for a in self.sort_attrs if a not in self._required]
        if not all(self._type_ok(a, attrs[a]) for a in key_attrs if a in attrs):
            return _Entry(None, None, item, mistyped=True)
        partition_key = tuple(attrs[a] for a in self.hash_attrs)
        sort_key = tuple(attrs[a].cast_value for a in self.sort_attrs)
        return _Entry(partition_key, sort_key, item, mistyped=False)

    def put(self, primary_key: PrimaryKey, item: Any | None) -> None:
        """File ``item`` (the table's current item for ``primary_key``, None if deleted)."""
        old = self._entries.pop(primary_key, None)
        if old is not None:
            self._unfile(primary_key, old)
        if item is None:
            return
        entry = self._file(item)
        self._entries[primary_key] = entry
        if entry.mistyped:
            self.mistyped += 1
        elif entry.partition_key is not None:
            self.partitions.setdefault(entry.partition_key, Partition()).insert(
                entry.sort_key,  # type: ignore[arg-type]
                item,
            )

    def _unfile(self, primary_key: PrimaryKey, entry: _Entry) -> None:
        if entry.mistyped:
            self.mistyped -= 1
            return
        if entry.partition_key is None:
            return
        partition = self.partitions.get(entry.partition_key)
        if partition is None or not partition.remove(entry.sort_key, entry.item):  # type: ignore[arg-type]
            raise IndexCorruptError(
                f"GSI entry for {primary_key!r} was not where it was filed; the index must be rebuilt"
            )
        if not partition.items:
            del self.partitions[entry.partition_key]

    def load(self, items: Iterable[tuple[PrimaryKey, Any]]) -> None:
        """File many items at once: group first, sort each partition once."""
        pending: dict[tuple[Any, ...], list[tuple[SortKey, Any]]] = {}
        for primary_key, item in items:
            entry = self._file(item)
            self._entries[primary_key] = entry
            if entry.mistyped:
                self.mistyped += 1
            elif entry.partition_key is not None:
                pending.setdefault(entry.partition_key, []).append((entry.sort_key, item))  # type: ignore[arg-type]
        for partition_key, rows in pending.items():
            rows.sort(key=lambda row: row[0])
            self.partitions[partition_key] = Partition(keys=[row[0] for row in rows], items=[row[1] for row in rows])

    def partition(self, partition_key: tuple[Any, ...]) -> Partition | None:
        return self.partitions.get(partition_key)


class IndexCorruptError(RuntimeError):
    """The index no longer matches what it filed; the owner drops and rebuilds it."""


def first_true(lo: int, hi: int, predicate: Callable[[int], bool]) -> int:
    """Smallest i in [lo, hi) with predicate(i), hi if none; predicate False...False True...True."""
    while lo < hi:
        mid = (lo + hi) // 2
        if predicate(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def first_false(lo: int, hi: int, predicate: Callable[[int], bool]) -> int:
    """Smallest i in [lo, hi) with not predicate(i), hi if none; predicate True...True False...False."""
    return first_true(lo, hi, lambda i: not predicate(i))


@dataclass(frozen=True)
class Window:
    """The slice [start, stop) of a partition handed to moto, and whether items were trimmed
    after it in iteration order (beyond the one extra item moto needs to set LastEvaluatedKey)."""

    start: int
    stop: int
    suffix_trimmed: bool


def query_window(
    size: int,
    forward: bool,
    block: tuple[int, int] | None,
    resume_at: int | None,
    limit: int | None,
) -> Window:
    """The part of an ascending partition of ``size`` items that moto's query loop can use.

    ``block`` is [lo, hi), the items satisfying the range condition (None: no condition or
    one that cannot be bounded); ``resume_at`` the ascending index where iteration resumes
    after ExclusiveStartKey (forward: first index after the key; reverse: first index at or
    after the key, iteration goes downward from it); ``limit`` caps the window at
    ``limit + 1`` items, valid only when every item in the block is appended by moto.

    What is dropped never changes moto's answer: items before the resume point are skipped by
    moto before any counting; items before the block in iteration order are never appended
    while the result is empty; one item past the block is kept because moto emits
    LastEvaluatedKey on the item *after* the page is full.
    """
    lo, hi = block if block is not None else (0, size)
    if forward:
        start = max(lo, resume_at if resume_at is not None else 0)
        stop = min(hi + 1, size) if block is not None else size
        stop = max(stop, start)
        suffix_trimmed = stop < size
        if limit is not None:
            capped = min(stop, start + limit + 1)
            suffix_trimmed = suffix_trimmed or capped < stop
            stop = capped
        return Window(start, stop, suffix_trimmed)
    stop = min(hi, resume_at if resume_at is not None else size)
    start = max(lo - 1, 0) if block is not None else 0
    start = min(start, stop)
    suffix_trimmed = start > 0
    if limit is not None:
        capped = max(start, stop - limit - 1)
        suffix_trimmed = suffix_trimmed or capped > start
        start = capped
    return Window(start, stop, suffix_trimmed)
