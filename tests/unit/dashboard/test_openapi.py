"""The API's OpenAPI document is valid and names every /api/ route the app serves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from openapi_spec_validator import validate

from healops.dashboard import create_app
from healops.dashboard.openapi import document
from healops.dashboard.resources import StackResources


def test_openapi_document_is_valid_and_covers_every_api_route() -> None:
    app = create_app({"TESTING": True, "RESOURCES": StackResources(discovery={"tables": {}})})
    document = app.test_client().get("/api/openapi.json").get_json()
    validate(document)
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule): {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    }
    documented = {path: set(ops) for path, ops in document["paths"].items()}
    assert routes == documented


def _object_schemas(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        if schema.get("type") == "object" or (isinstance(schema.get("type"), list) and "object" in schema["type"]):
            yield where, schema
        for key, value in schema.items():
            yield from _object_schemas(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for n, value in enumerate(schema):
            yield from _object_schemas(value, f"{where}/{n}")


def test_every_response_has_a_json_schema_and_no_object_is_left_undescribed() -> None:
    doc = document()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                schema = response["content"]["application/json"]["schema"]
                assert "$ref" in schema, f"{method} {path} {status}: name its schema in components"
    # A bare {"type": "object"} says nothing: each says its properties, or what its values are
    # (free-form maps such as an incident's signals say so with additionalProperties: true).
    loose = [
        where
        for where, schema in _object_schemas(doc["components"]["schemas"], "#/components/schemas")
        if "properties" not in schema and "additionalProperties" not in schema
    ]
    assert loose == []
    for name, schema in doc["components"]["schemas"].items():
        if "properties" in schema:
            missing = set(schema.get("required", [])) - set(schema["properties"])
            assert not missing, f"{name} requires fields it does not describe: {missing}"
