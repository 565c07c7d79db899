"""DynamoDB additions: Query that costs what it returns.

moto 5.2.5 answers every Query by walking (and sorting) every item of the table: a 50-item
page from a GSI of a 10,000-item table took 134 ms and grew with the table.

Supported:
- Query on a global secondary index reads one partition of an index kept per GSI: the items
  that have all the GSI's key attributes (a sparse index, as in DynamoDB), grouped by the GSI
  hash key value(s) (multi-attribute hash keys included) and kept sorted in moto's order.
  The index of a GSI is built on its first query and then followed by every write: PutItem,
  UpdateItem (moto changes items in place), DeleteItem, BatchWriteItem, TransactWriteItems,
  PartiQL statements. A GSI added or changed by UpdateTable, a table deleted and recreated,
  restored, or rolled back by a failed transaction gets a fresh index on its next query.
- Query on the base table and on a local secondary index reads only the table's own bucket
  for the hash key value (moto already stores items that way).
- The answer is computed by moto's own ``Table.query`` on that small candidate list, so key
  conditions, ordering, ScanIndexForward, Limit, ExclusiveStartKey/LastEvaluatedKey, 1 MB
  pages, projections, FilterExpression, QueryFilter, Select COUNT and Count/ScannedCount are
  exactly moto's. (moto's ScannedCount counts the items that passed the key condition, before
  FilterExpression, which is what DynamoDB reports too.) Within a partition, ExclusiveStartKey
  and a range-key condition on a single-range-key GSI are located by bisection, and with a
  Limit only ``Limit + 1`` items are handed to moto (moto sets LastEvaluatedKey on the item
  after a full page).

Limits:
- While a write to a table is in flight (it may call a stream's Lambda synchronously), queries
  on that table are answered by moto's full scan; so are queries while any item carries a GSI
  key attribute of another type than the attribute definition (DynamoDB rejects such writes,
  moto stores them), ConsistentRead on a GSI (moto's error) and unknown indexes.
- Items written by code that bypasses moto's ``Table.put_item``/``delete_item`` and
  ``DynamoDBBackend.update_item`` are not seen by the GSI index until it is rebuilt.
- Scan is moto's unchanged.
"""

from __future__ import annotations

from healops.local.dynamodb.models import IndexedGlobalSecondaryIndexes, describe_counts

__all__ = ["IndexedGlobalSecondaryIndexes", "describe_counts"]
