"""The DynamoDB tables as ``terraform/tables.tf`` declares them, for tests and benchmarks.

Terraform's ``local.tables`` is the one source of truth for keys and indexes; this module reads
it (python-hcl2) and creates the same tables through any DynamoDB client, so a test fixture or
a benchmark never restates a schema that could drift from the deployed one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from healops import paths

_HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


@dataclass(frozen=True)
class TableSpec:
    key: str
    hash_key: str
    range_key: str | None
    attributes: dict[str, str]
    indexes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    ttl: str | None = None

    def create_table_request(self, table_name: str) -> dict[str, Any]:
        """The CreateTable request Terraform's resource amounts to (on-demand, ALL projections)."""
        keys = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            keys.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        request: dict[str, Any] = {
            "TableName": table_name,
            "KeySchema": keys,
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in self.attributes.items()],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": name,
                    "KeySchema": [{"AttributeName": h, "KeyType": "HASH"}]
                    + ([{"AttributeName": r, "KeyType": "RANGE"}] if r else []),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for name, (h, r) in self.indexes.items()
            ]
        return request


def _none(value: Any) -> Any:
    return None if value in (None, "null") else value


@cache
def table_specs(tables_tf: Path = paths.TERRAFORM_DIR / "tables.tf") -> dict[str, TableSpec]:
    """Every table of ``local.tables``, by its key (``incidents``, ``fleet``, ...)."""
    with tables_tf.open() as fp:
        document = hcl2.load(fp, serialization_options=_HCL_OPTIONS)
    tables: dict[str, Any] = {}
    for block in document.get("locals", []):
        tables.update(block.get("tables", {}))
    return {
        key: TableSpec(
            key=key,
            hash_key=spec["hash_key"],
            range_key=_none(spec.get("range_key")),
            attributes=dict(spec["attributes"]),
            indexes={n: (i["hash_key"], _none(i.get("range_key"))) for n, i in (spec.get("indexes") or {}).items()},
            ttl=_none(spec.get("ttl")),
        )
        for key, spec in tables.items()
    }


def create_tables(dynamodb_client: Any, names: dict[str, str] | Iterable[str]) -> dict[str, str]:
    """Create tables like Terraform's: ``names`` maps a table key to its name (or lists keys, named
    as they are). Tables that exist already are left alone. Returns key → name."""
    wanted = dict(names) if isinstance(names, dict) else {key: key for key in names}
    specs = table_specs()
    unknown = sorted(set(wanted) - set(specs))
    if unknown:
        raise KeyError(f"no table {', '.join(unknown)} in terraform/tables.tf (known: {', '.join(sorted(specs))})")
    existing = set(dynamodb_client.list_tables().get("TableNames", []))
    for key, name in wanted.items():
        if name not in existing:
            dynamodb_client.create_table(**specs[key].create_table_request(name))
            if specs[key].ttl:
                dynamodb_client.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": specs[key].ttl}
                )
    return wanted
