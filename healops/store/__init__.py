"""One repository class per table or bucket, on boto3.

Every repository takes its client (``dynamodb_client=``) and builds one only when none is given,
so handlers share module-scope clients and tests pass their own. The rules that all tables keep
(conditional writes, typed (de)serialisation, paging with keys, never scans) live in
:mod:`healops.store.base`; a table's module says only what its items look like and how they are
keyed.
"""

from __future__ import annotations

from healops.store.base import ConditionFailedError, DynamoRepository, Page

__all__ = ["ConditionFailedError", "DynamoRepository", "Page"]
