"""The API's OpenAPI document is valid and names every /api/ route the app serves."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from healops.dashboard import create_app
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
