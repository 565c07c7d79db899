"""The direct AttributeValue encoder produces the bytes moto's model-driven serializer does."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from moto.core.serialize import BaseJSONSerializer, XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict

from healops.local.dynamodb import models
from healops.local.dynamodb.attribute_values import Unhandled, encode_attribute_value, make_structure_serializer

BLOB = base64.b64encode(b"\x00\x01binary\xff").decode()
VALUES: list[dict[str, Any]] = [
    {"S": "plain"},
    {"S": ""},
    {"N": "-12.50"},
    {"B": BLOB},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2.5"]},
    {"BS": [BLOB]},
    {"BOOL": False},
    {"NULL": True},
    {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"BS": [BLOB]}}}]},
    {"M": {"a": {"S": "1"}, "b": {"L": []}, "c": {"M": {}}, "d": {"NULL": True}}},
]


def _serialize(structure_method: Any, item: dict[str, Any]) -> Any:
    serializer_cls = get_serializer_class("dynamodb", "json")

    class Serializer(serializer_cls):  # type: ignore[valid-type, misc]
        _serialize_type_structure = structure_method

    operation = get_service_model("dynamodb").operation_model("GetItem")
    body = Serializer(operation_model=operation, value_picker=XFormedAttributePicker()).serialize(
        dynamo_to_dict({"Item": item})
    )["body"]
    return json.loads(body)


def _moto_structure_method() -> Any:
    return models._originals.get(
        "BaseJSONSerializer._serialize_type_structure", BaseJSONSerializer._serialize_type_structure
    )


@pytest.mark.parametrize("value", VALUES, ids=[next(iter(v)) for v in VALUES])
def test_encoded_attribute_value_matches_moto_serializer(value: dict[str, Any]) -> None:
    item = {"attr": DynamoType(value), "pk": DynamoType({"S": "k"})}
    moto_body = _serialize(_moto_structure_method(), item)
    fast_body = _serialize(make_structure_serializer(_moto_structure_method(), lambda: True), item)
    assert fast_body == moto_body
    assert fast_body["Item"]["pk"] == {"S": "k"}


def test_unknown_shapes_are_left_to_moto() -> None:
    with pytest.raises(Unhandled):
        encode_attribute_value({"X": "1"}, str)
    with pytest.raises(Unhandled):
        encode_attribute_value({"L": [None]}, str)
    with pytest.raises(Unhandled):
        encode_attribute_value("S", str)
