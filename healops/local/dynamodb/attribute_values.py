"""A direct encoder for DynamoDB ``AttributeValue`` in moto's JSON responses.

Once a Query reads only its partition, moto's response serializer is the cost: it walks the
botocore model for every attribute of every item, trying several aliases per member (50 items
of 4 attributes: about 16 ms of an 18 ms request). Here an ``AttributeValue`` (a plain
``{"S": ...}``-style dict by then) is encoded by a function that does per member what moto's
``BaseJSONSerializer`` does (string members through ``str``, blobs through the serializer's own
``_base64``, booleans as they are, ``M``/``L`` recursively, ``None`` members left out). Anything
it does not recognise (other keys, non-dict values, ``None`` inside sets) goes to moto's path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

ATTRIBUTE_VALUE_SHAPE = "AttributeValue"
MEMBER_KINDS = {
    "S": "string",
    "N": "string",
    "B": "blob",
    "SS": "string_list",
    "NS": "string_list",
    "BS": "blob_list",
    "M": "map",
    "L": "list",
    "NULL": "boolean",
    "BOOL": "boolean",
}


class Unhandled(Exception):
    """The value is not the plain shape this encoder knows; moto's serializer takes it."""


def _string(value: Any) -> Any:
    # Exactly moto's BaseJSONSerializer._serialize_type_string (minus the Enum case, which a
    # DynamoDB attribute value never is).
    return str(value) if value not in [None, {}, []] else value


def encode_attribute_value(value: Any, base64: Callable[[Any], str]) -> dict[str, Any]:
    """The JSON form of one AttributeValue, as moto's serializer would produce it."""
    if type(value) is not dict or not value.keys() <= MEMBER_KINDS.keys():
        raise Unhandled
    encoded: dict[str, Any] = {}
    # Members in the model's order, as moto's serializer visits them.
    for member, kind in MEMBER_KINDS.items():
        member_value = value.get(member)
        if member_value is None:
            continue
        if kind == "string":
            encoded[member] = _string(member_value)
        elif kind == "blob":
            encoded[member] = base64(member_value)
        elif kind == "boolean":
            encoded[member] = member_value
        elif kind in ("string_list", "blob_list"):
            if type(member_value) is not list or any(x is None for x in member_value):
                raise Unhandled
            convert = _string if kind == "string_list" else base64
            encoded[member] = [convert(x) for x in member_value]
        elif kind == "map":
            if type(member_value) is not dict:
                raise Unhandled
            encoded[member] = {
                key: encode_attribute_value(sub, base64) for key, sub in member_value.items() if sub is not None
            }
        else:  # list of AttributeValue
            if type(member_value) is not list or any(x is None for x in member_value):
                raise Unhandled
            encoded[member] = [encode_attribute_value(sub, base64) for sub in member_value]
    return encoded


def make_structure_serializer(original: Callable[..., None], is_active: Callable[[], bool]) -> Callable[..., None]:
    """Wrap ``BaseJSONSerializer._serialize_type_structure`` with the direct encoder."""

    def serialize_structure_fast(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            key
            and value is not None
            and shape.name == ATTRIBUTE_VALUE_SHAPE
            and is_active()
            and self.service_model.service_name == "dynamodb"
        ):
            try:
                encoded = encode_attribute_value(value, self._base64)
            except Unhandled:
                pass
            else:
                serialized[self.get_serialized_name(shape, key)] = encoded
                return
        original(self, serialized, value, shape, key)

    return serialize_structure_fast
