"""Table ``<prefix>-detector_state`` (hash ``series_key``): the detector's state between invocations.

One item per service (``service#<name>``: its detectors' state) plus one for correlation (``correlation``).
State is stored as one JSON string attribute (bounded: :data:`MAX_STATE_BYTES`), read with BatchGetItem (100
keys a call) and written with BatchWriteItem (25 items a call); the correlation item is written conditionally
on the ``version`` read, so two concurrent runs cannot both apply their changes to the same state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from healops.store.base import BATCH_ATTEMPTS, DynamoRepository, UnprocessedKeysError, serialize

MAX_STATE_BYTES = 350_000  # under DynamoDB's 400 KB item limit, with room for the key and version
_WRITE_BATCH = 25


class StateTooLargeError(ValueError):
    """A state that would not fit one item: the detector's bounds were not kept."""


def _encode(key: str, state: Mapping[str, Any], version: int) -> dict[str, Any]:
    text = json.dumps(state, separators=(",", ":"))
    if len(text) > MAX_STATE_BYTES:
        raise StateTooLargeError(f"state of {key} is {len(text)} bytes; at most {MAX_STATE_BYTES} are stored")
    return {"series_key": key, "state": text, "version": version}


class DetectorStateRepository(DynamoRepository):
    redact_writes = False  # machine state (see DynamoRepository.redact_writes)

    def get_many(self, keys: list[str]) -> dict[str, tuple[dict[str, Any], int]]:
        """key -> (state, version) for the keys that exist."""
        items = self._batch_get([{"series_key": k} for k in keys])
        return {i["series_key"]: (json.loads(i["state"]), int(i.get("version", 0))) for i in items}

    def put_many(self, states: Mapping[str, Mapping[str, Any]]) -> int:
        """Write every state (unconditionally: per-service states are a function of the ticks they saw); calls made.
        Raises :class:`UnprocessedKeysError` if DynamoDB keeps leaving some unwritten."""
        items = [_encode(k, s, 0) for k, s in states.items()]
        calls = 0
        for at in range(0, len(items), _WRITE_BATCH):
            request: dict[str, Any] = {
                self.table_name: [{"PutRequest": {"Item": serialize(i)}} for i in items[at : at + _WRITE_BATCH]]
            }
            for attempt in range(BATCH_ATTEMPTS):
                self._backoff(attempt)
                calls += 1
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
            else:
                left = len(request[self.table_name])
                raise UnprocessedKeysError(
                    f"{self.table_name}: {left} states still unwritten after {BATCH_ATTEMPTS} BatchWriteItem calls"
                )
        return calls

    def get_versioned(self, key: str) -> tuple[dict[str, Any] | None, int]:
        item = self._get({"series_key": key})
        if not item:
            return None, 0
        return json.loads(item["state"]), int(item.get("version", 0))

    def put_versioned(self, key: str, state: Mapping[str, Any], read_version: int) -> None:
        """Write ``state`` if the item is still at ``read_version`` (0: absent); ConditionFailedError otherwise."""
        item = _encode(key, state, read_version + 1)
        if read_version == 0:
            self._put(item, "attribute_not_exists(#k)", **{"#k": "series_key"})
        else:
            self._put(item, "#v = :v", **{"#v": "version", ":v": read_version})
