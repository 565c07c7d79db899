"""The DynamoDB extension: GSI queries (and base-table / LSI queries) that read only their partition.

moto's ``Table.query`` walks every item of the table for each Query. Here a patched
``Table.query`` finds the few items that can possibly answer (one partition of a maintained
GSI index, or the table's own hash-key bucket for base-table and LSI queries) and runs
*moto's own* ``Table.query`` on a stand-in table whose ``all_items()`` returns only those.
Key conditions, ordering, ScanIndexForward, Limit, ExclusiveStartKey/LastEvaluatedKey,
projection, FilterExpression and Count/ScannedCount are therefore moto's code, unchanged.

Write hooks (``Table.put_item``, ``Table.delete_item``, ``DynamoDBBackend.update_item`` which
mutates items in place) keep the GSI indexes current; while a write to a table is in flight,
queries on it use moto's full scan, so no reader ever sees a half-applied write.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from healops.local.dynamodb.attribute_values import make_structure_serializer
from healops.local.dynamodb.gsi_index import (
    GsiIndex,
    Window,
    first_false,
    first_true,
    query_window,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from healops.local.context import EmbeddedContext

logger = logging.getLogger(__name__)

# moto stops a page at 1 MB; an item is at most ~405 KB (LimitedSizeDict). When a page that
# ended without LastEvaluatedKey has appended more than this, a trimmed item could have
# tripped moto's size check, so the query is re-run over the untrimmed tail.
RESULT_SIZE_LIMIT = 1_000_000
SIZE_GUARD_BYTES = RESULT_SIZE_LIMIT // 2

# The context the patches serve; None when no embedded cloud with this extension runs,
# and then every patched function behaves exactly as moto's.
_active: EmbeddedContext | None = None
_installed = False
_originals: dict[str, Callable[..., Any]] = {}

# How queries were answered, for tests and for `healops status`-like reporting.
query_counts: Counter[str] = Counter()


class TableIndexes:
    """The GSI indexes of one moto table, and the count of writes in flight on it."""

    def __init__(self, table: Any) -> None:
        self.lock = threading.RLock()
        # moto checks a write's condition and then writes, unguarded: two threads of the server could both
        # pass ``attribute_not_exists``. DynamoDB makes each item write atomic; one write at a time per table
        # does here (re-entrant: moto's update_item may put through the table).
        self.write_lock = threading.RLock()
        self.in_flight = 0
        self.items_ref: object = table.items
        self.gsis: dict[str, GsiIndex] = {}

    def reset(self, table: Any) -> None:
        self.items_ref = table.items
        self.gsis.clear()

    def refile(self, table: Any, primary_key: tuple[Any, Any]) -> None:
        """Re-file the table's current item at ``primary_key`` in every built GSI index."""
        if not self.gsis:
            return
        if self.items_ref is not table.items:
            self.reset(table)
            return
        item = current_item(table, primary_key)
        try:
            for index in self.gsis.values():
                index.put(primary_key, item)
        except Exception:
            # Never fail the write: forget the indexes, the next query rebuilds them.
            logger.exception("GSI index of table %s could not be updated; rebuilding", table.name)
            self.gsis.clear()

    def gsi(self, table: Any, index: Any) -> GsiIndex:
        """The built index for ``index`` (a moto GlobalSecondaryIndex), built now if needed."""
        if self.items_ref is not table.items:
            self.reset(table)
        signature = tuple((k["AttributeName"], k["KeyType"]) for k in index.schema)
        built = self.gsis.get(index.name)
        if built is not None and built.signature == signature:
            return built
        built = build_gsi_index(table, index, signature)
        self.gsis[index.name] = built
        return built


# Keyed by the table object: a table deleted and recreated under the same name, or restored
# from a transaction's backup copy, is a new object and starts with no index.
_tables: weakref.WeakKeyDictionary[Any, TableIndexes] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


def indexes_for(table: Any) -> TableIndexes:
    found = _tables.get(table)
    if found is not None:
        return found
    with _tables_lock:
        found = _tables.get(table)
        if found is None:
            found = TableIndexes(table)
            _tables[table] = found
        return found


def current_item(table: Any, primary_key: tuple[Any, Any]) -> Any | None:
    """The item stored at ``primary_key``, read without touching moto's defaultdict."""
    hash_value, range_value = primary_key
    stored = dict.get(table.items, hash_value)
    if stored is None:
        return None
    if table.range_key_attr is None:
        return stored
    if range_value is None:
        return None
    return stored.get(range_value)


def iter_table_items(table: Any) -> Iterator[tuple[tuple[Any, Any], Any]]:
    """(primary key, item) for every item, from copies: writers may run meanwhile."""
    for hash_value, stored in list(dict.items(table.items)):
        if table.range_key_attr is None:
            yield (hash_value, None), stored
        else:
            for range_value, item in list(stored.items()):
                yield (hash_value, range_value), item


def sort_plan(table: Any, index: Any) -> tuple[list[str], list[str | None]]:
    """moto's (hash_attrs, range_attrs) for a GSI query, as ``Table.query`` builds them."""
    from moto.dynamodb.models.table import GlobalSecondaryIndex

    index_hash = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    index_range = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    hash_attrs = [*index_hash, table.hash_key_attr]
    if index_range:
        range_attrs: list[str | None] = [*index_range, table.range_key_attr]
    else:
        if isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
            stand_in = table.range_key_attr
        else:
            stand_in = table.hash_key_attr
        range_attrs = [stand_in, table.range_key_attr]
    return hash_attrs, range_attrs


def build_gsi_index(table: Any, index: Any, signature: tuple[tuple[str, str], ...]) -> GsiIndex:
    hash_attrs, range_attrs = sort_plan(table, index)
    index_hash = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    index_range = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    sort_by = table._generate_attr_to_sort_by(hash_attrs, range_attrs)
    # Inside one partition the GSI hash values are equal: moto's comparison moves past them.
    sort_attrs = sort_by[len(index_hash) :]
    declared = {a["AttributeName"]: a["AttributeType"] for a in (table.attr or [])}
    gsi = GsiIndex(signature, index_hash, index_range, sort_attrs, declared)
    gsi.load(iter_table_items(table))
    query_counts["gsi_index_built"] += 1
    logger.debug("built GSI index %s of %s: %d items", index.name, table.name, len(gsi))
    return gsi


class PartitionView:
    """A stand-in for a moto Table whose ``all_items()`` is a chosen list of candidates.

    moto's ``Table.query`` runs on it unchanged; every other attribute is the table's own.
    ``presorted`` says the candidates are already in moto's sort order, so sorting them again
    (``O(k log k)`` Python comparisons) is skipped.
    """

    def __init__(self, table: Any, candidates: list[Any], presorted: bool) -> None:
        self._table = table
        self._candidates = candidates
        self._presorted = presorted

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        return list(self._candidates)

    def sorted_items(self, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]) -> list[Any]:
        if self._presorted:
            return items
        return self._table.sorted_items(hash_key_attrs, range_key_attrs, items)


@dataclass
class QueryCall:
    """The arguments of one ``Table.query`` call, to run moto's query on a view or the table."""

    hash_key: Any
    range_comparison: str | None
    range_objs: list[Any]
    limit: int | None
    exclusive_start_key: dict[str, Any] | None
    scan_index_forward: bool
    projection_expressions: Any
    index_name: str | None
    consistent_read: bool
    filter_expression: Any
    hash_key_conditions: list[tuple[str, Any]] | None
    range_key_conditions: list[tuple[str, str, list[Any]]] | None
    filter_kwargs: dict[str, Any]

    def run(self, target: Any) -> tuple[list[Any], int, dict[str, Any] | None]:
        return original_query()(
            target,
            self.hash_key,
            self.range_comparison,
            self.range_objs,
            self.limit,
            self.exclusive_start_key,
            self.scan_index_forward,
            self.projection_expressions,
            self.index_name,
            self.consistent_read,
            self.filter_expression,
            hash_key_conditions=self.hash_key_conditions,
            range_key_conditions=self.range_key_conditions,
            **self.filter_kwargs,
        )


def original_query() -> Callable[..., Any]:
    """moto's ``Table.query`` (also before the patches are installed)."""
    found = _originals.get("Table.query")
    if found is None:
        from moto.dynamodb.models.table import Table

        found = Table.query
    return found


# Range conditions whose matches form one contiguous run of a partition sorted by the range key.
_BOUNDABLE = {"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"}


def range_block(items: list[Any], attr: str, op: str, objs: list[Any]) -> tuple[int, int] | None:
    """[lo, hi) of the items (ascending by ``attr`` first) that moto's range check accepts.

    Uses moto's own ``DynamoType.compare`` at O(log k) probes; the boundaries are then
    checked against the exact condition, and None (no trimming) is returned if they disagree.
    """
    if op not in _BOUNDABLE:
        return None
    n = len(items)

    def cmp(i: int, operator: str, values: list[Any]) -> bool:
        return bool(items[i].attrs[attr].compare(operator, values))

    if op == "=":
        lo = first_true(0, n, lambda i: cmp(i, ">=", objs))
        hi = first_true(lo, n, lambda i: cmp(i, ">", objs))
    elif op in ("<", "<="):
        lo, hi = 0, first_false(0, n, lambda i: cmp(i, op, objs))
    elif op in (">", ">="):
        lo, hi = first_true(0, n, lambda i: cmp(i, op, objs)), n
    elif op == "BETWEEN":
        lo = first_true(0, n, lambda i: cmp(i, ">=", objs[:1]))
        hi = max(lo, first_false(0, n, lambda i: cmp(i, "<=", objs[1:2])))
    else:  # BEGINS_WITH: prefix matches are contiguous and start at the first value >= prefix
        lo = first_true(0, n, lambda i: cmp(i, ">=", objs))
        hi = first_false(lo, n, lambda i: cmp(i, op, objs))
    inside = [i for i in (lo, hi - 1) if lo < hi]
    outside = [i for i in (lo - 1, hi) if 0 <= i < n]
    if not all(cmp(i, op, objs) for i in inside) or any(cmp(i, op, objs) for i in outside):
        return None
    return lo, hi


def resume_point(
    table: Any, items: list[Any], call: QueryCall, hash_attrs: list[str], range_attrs: list[str | None]
) -> int | None:
    """The ascending index where moto's loop stops skipping the previous page, by bisection
    over moto's own ``_item_comes_before_dct`` (monotone over a partition in moto's order)."""
    esk = call.exclusive_start_key
    if esk is None:
        return None
    n = len(items)

    def before(i: int, forward: bool) -> bool:
        return bool(table._item_comes_before_dct(items[i], esk, hash_attrs, range_attrs, forward))

    if call.scan_index_forward:
        return first_false(0, n, lambda i: before(i, True))
    return first_true(0, n, lambda i: before(i, False))


def plan_gsi_query(table: Any, index: Any, call: QueryCall) -> tuple[PartitionView, Window] | None:
    """The view moto's query should run on for a GSI query, or None to let moto scan."""
    if not call.hash_key_conditions:
        return None
    state = indexes_for(table)
    with state.lock:
        if state.in_flight:
            query_counts["gsi_fallback_write_in_flight"] += 1
            return None
        gsi = state.gsi(table, index)
        if not gsi.usable:
            query_counts["gsi_fallback_mistyped_keys"] += 1
            return None
        conditions = dict(call.hash_key_conditions)
        if len(conditions) != len(call.hash_key_conditions) or set(conditions) != set(gsi.hash_attrs):
            return None
        partition_key = tuple(conditions[a] for a in gsi.hash_attrs)
        if any(v.type not in ("S", "N", "B") for v in partition_key):
            return None
        partition = gsi.partition(partition_key)
        items = list(partition.items) if partition is not None else []
    hash_attrs, range_attrs = sort_plan(table, index)
    every_block_item_appended = not call.filter_kwargs and len(call.range_key_conditions or []) <= 1
    block = None
    if call.range_comparison and every_block_item_appended:
        range_attr = call.range_key_conditions[-1][0] if call.range_key_conditions else None
        if len(gsi.range_attrs) == 1 and range_attr in (None, gsi.range_attrs[0]):
            block = range_block(items, gsi.range_attrs[0], call.range_comparison, call.range_objs)
        if block is None:
            every_block_item_appended = False
    window = query_window(
        len(items),
        call.scan_index_forward,
        block,
        resume_point(table, items, call, hash_attrs, range_attrs),
        call.limit if every_block_item_appended and call.limit is not None else None,
    )
    return PartitionView(table, items[window.start : window.stop], presorted=True), window


def answer_gsi_query(table: Any, index: Any, call: QueryCall) -> tuple[list[Any], int, dict[str, Any] | None] | None:
    try:
        planned = plan_gsi_query(table, index, call)
    except Exception:
        # Anything unexpected (odd key values, a malformed ExclusiveStartKey): moto answers,
        # with its own error if the request is wrong.
        logger.debug("GSI index declined a query on %s", table.name, exc_info=True)
        planned = None
    if planned is None:
        return None
    view, window = planned
    results, scanned, last_key = call.run(view)
    if last_key is None and window.suffix_trimmed and _appended_bytes(view, call, scanned) > SIZE_GUARD_BYTES:
        query_counts["gsi_size_guard_rerun"] += 1
        return None
    query_counts["gsi_indexed"] += 1
    return results, scanned, last_key


def _appended_bytes(view: PartitionView, call: QueryCall, scanned: int) -> int:
    # Without filter_kwargs, moto's ScannedCount is the number of items appended, which are
    # the first `scanned` items of the window in iteration order.
    candidates = view.all_items() if call.scan_index_forward else view.all_items()[::-1]
    return sum(item.size() for item in candidates[:scanned])


def partition_candidates(table: Any, hash_value: Any) -> list[Any]:
    """The items under one base-table hash key: every candidate of a base-table or LSI query."""
    stored = dict.get(table.items, hash_value)
    if stored is None:
        return []
    if table.range_key_attr is None:
        return [stored]
    return list(stored.values())


def answer_partition_query(
    table: Any, index: Any | None, call: QueryCall
) -> tuple[list[Any], int, dict[str, Any] | None] | None:
    """Base-table and LSI queries: the table already groups items by hash key."""
    if index is None:
        hash_value = call.hash_key
    else:
        conditions = call.hash_key_conditions or []
        if len(conditions) != 1 or conditions[0][0] != table.hash_key_attr:
            return None
        hash_value = conditions[0][1]
    if hash_value is None or hash_value.type not in ("S", "N", "B"):
        return None
    # Not presorted: moto sorts this one partition itself, exactly as it would have.
    view = PartitionView(table, partition_candidates(table, hash_value), presorted=False)
    query_counts["lsi_partition" if index is not None else "table_partition"] += 1
    return call.run(view)


def _indexed_query(
    self: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    projection_expressions: Any,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, Any]] | None = None,
    range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Any], int, dict[str, Any] | None]:
    call = QueryCall(
        hash_key,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
        projection_expressions,
        index_name,
        consistent_read,
        filter_expression,
        hash_key_conditions,
        range_key_conditions,
        filter_kwargs,
    )
    if _active is None:
        return call.run(self)
    answer = route_query(self, call)
    if answer is None:
        query_counts["moto_scan"] += 1
        return call.run(self)
    return answer


def route_query(table: Any, call: QueryCall) -> tuple[list[Any], int, dict[str, Any] | None] | None:
    from moto.dynamodb.models.table import GlobalSecondaryIndex

    if not call.index_name:
        return answer_partition_query(table, None, call)
    indexes_by_name = {i.name: i for i in table.all_indexes()}
    index = indexes_by_name.get(call.index_name)
    if index is None:
        return None  # moto raises its own "Invalid index" error
    if isinstance(index, GlobalSecondaryIndex):
        if call.consistent_read:
            return None  # moto raises its own error
        return answer_gsi_query(table, index, call)
    return answer_partition_query(table, index, call)


# ---- write hooks ---------------------------------------------------------------------------


def _primary_key_of(table: Any, item_attrs: dict[str, Any]) -> tuple[Any, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(item_attrs[table.hash_key_attr])
        range_value = DynamoType(item_attrs[table.range_key_attr]) if table.range_key_attr else None
    except Exception:
        return None  # moto rejects such an item before storing anything
    return hash_value, range_value


def _write_hook(primary_key_of: Callable[..., tuple[Any, tuple[Any, Any] | None]]) -> Callable[..., Any]:
    """Wrap a moto write so the table's GSI indexes follow it.

    ``primary_key_of(*args, **kwargs)`` names the table and the key written (key None: the
    write's extent is unknown and the indexes are dropped). The in-flight count makes
    concurrent queries on that table use moto's scan until the indexes have caught up. Writes to one
    table run one at a time, so a conditional write is atomic as on DynamoDB.
    """

    def decorate(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def hooked(*args: Any, **kwargs: Any) -> Any:
            if _active is None:
                return original(*args, **kwargs)
            try:
                table, key = primary_key_of(*args, **kwargs)
            except Exception:
                return original(*args, **kwargs)  # moto reports what is wrong
            if table is None:
                return original(*args, **kwargs)
            state = indexes_for(table)
            with state.lock:
                state.in_flight += 1
            try:
                with state.write_lock:
                    return original(*args, **kwargs)
            finally:
                with state.lock:
                    try:
                        if key is None:
                            state.gsis.clear()
                        else:
                            state.refile(table, key)
                    finally:
                        state.in_flight -= 1

        return hooked

    return decorate


def _put_item_target(table: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    primary_key = _primary_key_of(table, item_attrs)
    return (table, primary_key) if primary_key is not None else (None, None)


def _delete_item_target(table: Any, hash_key: Any, range_key: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    if range_key is None and table.range_key_attr is not None:
        return table, None  # moto pops the whole hash bucket: re-derive everything
    return table, (hash_key, range_key)


def _update_item_target(
    backend: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = backend.tables.get(table_name)
    if table is None:
        try:
            table = backend.get_table(table_name)
        except Exception:
            return None, None
    if not isinstance(key, dict) or table.hash_key_attr not in key:
        return table, None
    hash_value = DynamoType(key[table.hash_key_attr])
    range_attr = table.range_key_attr
    range_value = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
    return table, (hash_value, range_value)


def _transaction_hook(original: Callable[..., Any]) -> Callable[..., Any]:
    """Run a TransactWriteItems holding the write lock of every table it touches.

    moto checks each condition, then writes item by item, and on a failure puts back deep copies of the tables
    taken at its start: without the locks a racing write could pass between check and write, or be wiped by the
    rollback. Locks are taken in table-name order; a single write holds one lock only, so no cycle can form.
    """

    @functools.wraps(original)
    def hooked(backend: Any, transact_items: Any, *args: Any, **kwargs: Any) -> Any:
        if _active is None or not isinstance(transact_items, list):
            return original(backend, transact_items, *args, **kwargs)
        names: set[str] = set()
        for entry in transact_items:
            for op in entry.values() if isinstance(entry, dict) else ():
                if isinstance(op, dict) and isinstance(op.get("TableName"), str):
                    names.add(op["TableName"])
        with contextlib.ExitStack() as held:
            for name in sorted(names):
                table = backend.tables.get(name)
                if table is not None:
                    held.enter_context(indexes_for(table).write_lock)
            return original(backend, transact_items, *args, **kwargs)

    return hooked


def install_patches() -> None:
    """Patch moto's Table and backend once per process; idempotent."""
    global _installed
    if _installed:
        return
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    _originals["Table.query"] = Table.query
    _originals["Table.put_item"] = Table.put_item
    _originals["Table.delete_item"] = Table.delete_item
    _originals["DynamoDBBackend.update_item"] = DynamoDBBackend.update_item
    Table.query = _indexed_query
    Table.put_item = _write_hook(_put_item_target)(Table.put_item)
    Table.delete_item = _write_hook(_delete_item_target)(Table.delete_item)
    DynamoDBBackend.update_item = _write_hook(_update_item_target)(DynamoDBBackend.update_item)
    _originals["DynamoDBBackend.transact_write_items"] = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = _transaction_hook(DynamoDBBackend.transact_write_items)
    _originals["BaseJSONSerializer._serialize_type_structure"] = BaseJSONSerializer._serialize_type_structure
    BaseJSONSerializer._serialize_type_structure = make_structure_serializer(  # type: ignore[method-assign]
        BaseJSONSerializer._serialize_type_structure, lambda: _active is not None
    )
    _installed = True


def activate(ctx: EmbeddedContext | None) -> None:
    """Point the patches at ``ctx`` (None: behave as plain moto) and forget every index:
    writes made while inactive were not followed."""
    global _active
    with _tables_lock:
        _tables.clear()
    _active = ctx


class IndexedGlobalSecondaryIndexes:
    name = "dynamodb"

    def install(self, ctx: EmbeddedContext) -> None:
        install_patches()
        activate(ctx)

    def start(self, ctx: EmbeddedContext) -> None:
        return None

    def stop(self) -> None:
        activate(None)


def describe_counts() -> dict[str, int]:
    """How queries were answered since the process started (approximate under concurrency)."""
    return dict(query_counts)
