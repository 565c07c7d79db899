"""Hourly archives of the fleet's metrics and logs in S3, as gzip JSON Lines.

Each tick writes one small object under its hour's prefix
(``<kind>/ticks/YYYY/MM/DD/HH/<tick>.jsonl.gz``). The first tick that finds the previous hour
not yet compacted joins that hour's tick objects into ``<kind>/hourly/YYYY/MM/DD/HH.jsonl.gz``
and deletes them. Why this way: S3 cannot append, and holding an hour in a Lambda's memory is
lost on every cold start; a concatenation of gzip members is itself a valid gzip file, so the
compaction joins the compressed bytes without decompressing or parsing a record, and reads back
only the one hour it compacts, never the archive.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)


def encode_lines(records: Iterable[dict[str, Any]]) -> bytes:
    body = "".join(json.dumps(r, separators=(",", ":"), sort_keys=True) + "\n" for r in records)
    return gzip.compress(body.encode(), compresslevel=6, mtime=0)


def tick_key(kind: str, at: datetime, tick: int) -> str:
    return f"{kind}/ticks/{at:%Y/%m/%d/%H}/{tick:012d}.jsonl.gz"


def hourly_key(kind: str, hour: datetime) -> str:
    return f"{kind}/hourly/{hour:%Y/%m/%d/%H}.jsonl.gz"


class HourlyArchive:
    def __init__(self, s3: Any, bucket: str, kind: str) -> None:
        self.s3, self.bucket, self.kind = s3, bucket, kind

    def write_tick(self, at: datetime, tick: int, records: list[dict[str, Any]]) -> str:
        key = tick_key(self.kind, at, tick)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=encode_lines(records),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        return key

    def _exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def compact_previous_hour(self, at: datetime) -> str | None:
        """Join the hour before ``at`` into one object, once; returns its key when this call wrote it."""
        hour = (at - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        target = hourly_key(self.kind, hour)
        prefix = f"{self.kind}/ticks/{hour:%Y/%m/%d/%H}/"
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        if not keys or self._exists(target):
            return None
        parts = []
        for key in sorted(keys):
            try:
                parts.append(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            except self.s3.exceptions.NoSuchKey:
                return None  # another invocation is compacting this hour
        self.s3.put_object(
            Bucket=self.bucket,
            Key=target,
            Body=b"".join(parts),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        for start in range(0, len(keys), 1000):
            self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True}
            )
        logger.info("hour compacted", extra={"key": target, "ticks": len(keys)})
        return target
