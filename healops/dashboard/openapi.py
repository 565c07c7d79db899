"""The OpenAPI 3.1 document of ``/api/`` (served at ``/api/openapi.json``).

One source of truth per shape: what the views serialise from a type is described from that type's
annotations (pydantic's JSON Schema, 2020-12, which OpenAPI 3.1 takes as is): the stored records from
the ``healops/store`` models, the overview, incident detail and approval answer from the dataclasses in
``queries.py`` / ``summaries.py`` / ``approvals.py``. The few envelopes a view builds as a dict literal
(a timeline page, metrics, logs, errors) are written here by hand. A unit test validates the document and
checks it names every API route; an integration test validates every route's real responses against it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel, TypeAdapter

from healops.dashboard.approvals import ApprovalResult
from healops.dashboard.queries import (
    EVIDENCE_METRICS,
    MAX_METRIC_MINUTES,
    MAX_PAGE,
    STATUSES,
    IncidentDetail,
    Overview,
)
from healops.models.incident import INCIDENT_ID_PATTERN, SERVICE_NAME_PATTERN
from healops.models.metrics import SERVICE_METRICS
from healops.store.agent_decisions import DecisionRecord
from healops.store.incidents import IncidentRecord
from healops.store.llm_actions import LlmCallRecord
from healops.store.notifications import DeliveryRecord
from healops.store.remediations import RemediationAttempt

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"
# Page tokens are URL-safe base64 of JSON (healops/dashboard/timeline.py): opaque to clients.
PAGE_TOKEN: Schema = {"type": "string", "pattern": "^[A-Za-z0-9_=-]+$"}
# Attributes the incident table's GSIs key on: every item a timeline or the overview reads has them.
INCIDENT_INDEX_KEYS = ("incident_id", "service", "status", "opened_at")
# Attributes the dashboard's approval answer adds to an attempt (RemediationAttempt keeps extras).
APPROVAL_FIELDS: Schema = {
    "approval": {"type": ["string", "null"], "enum": ["approved", "denied", None]},
    "approval_by": {"type": ["string", "null"]},
    "approval_at": {"type": ["string", "null"]},
    "approval_error": {"type": "string", "description": "why Step Functions refused the last answer"},
}


def ref(name: str) -> Schema:
    return {"$ref": REF.format(model=name)}


def _type_schemas(kind: Any, name: str) -> dict[str, Schema]:
    """``kind``'s JSON Schema (as serialised) and those of the types it nests, by name."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        schema = kind.model_json_schema(mode="serialization", ref_template=REF)
    else:
        schema = TypeAdapter(kind).json_schema(mode="serialization", ref_template=REF)
    nested = schema.pop("$defs", {})
    return {name: schema, **nested}


def _record_schema(kind: Any, name: str, schemas: dict[str, Schema]) -> Schema:
    """``kind``'s schema; the types it nests (its enums: Severity, GuardDecision, ...) join the components."""
    found = _type_schemas(kind, name)
    for nested_name, nested in found.items():
        if nested_name != name:
            schemas.setdefault(nested_name, nested)
    return found[name]


def _all_required(schema: Schema, closed: bool) -> Schema:
    """Every property is required (``asdict`` / ``model_dump`` write each field, ``None`` included);
    ``closed``: no other property may appear."""
    schema["required"] = list(schema["properties"])
    if closed:
        schema["additionalProperties"] = False
    return schema


def _points(description: str) -> Schema:
    return {"type": "array", "items": ref("Point"), "description": description}


def _series(metrics: tuple[str, ...]) -> Schema:
    return {
        "type": "object",
        "description": "averages by metric name, a point per tick of the fleet's clock, oldest first",
        "properties": {name: _points(name) for name in metrics},
        "required": list(metrics),
        "additionalProperties": False,
    }


def _closed(properties: Schema, description: str = "") -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": list(properties)}
    schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


@functools.cache
def _generated_schemas() -> dict[str, Schema]:
    # Built once per process (pydantic's generation takes milliseconds); callers get a copy.
    schemas: dict[str, Schema] = {}
    # The dashboard's own dataclasses: serialised with asdict, so every field is there and nothing else.
    for kind, name in ((Overview, "Overview"), (IncidentDetail, "IncidentDetail"), (ApprovalResult, "ApprovalResult")):
        for nested_name, schema in _type_schemas(kind, name).items():
            schemas[nested_name] = _all_required(schema, closed=True)
    overview = schemas["Overview"]["properties"]
    overview["colour_counts"] = _closed({c: {"type": "integer", "minimum": 0} for c in ("green", "amber", "red")})
    overview["open_incidents"] = {"type": "array", "items": ref("StoredIncident"), "description": "newest first"}
    detail = schemas["IncidentDetail"]["properties"]
    detail["incident"] = ref("Incident")
    detail["decisions"] = {"type": "array", "items": ref("DecisionStep"), "description": "the trace, in order"}
    detail["llm_calls"] = {"type": "array", "items": ref("LlmCall"), "description": "in order"}
    detail["attempts"] = {"type": "array", "items": ref("Attempt"), "description": "first to last"}
    detail["pending_approvals"] = {
        "type": "array",
        "items": {"allOf": [ref("Attempt"), {"properties": {"awaiting_approval": {"const": True}}}]},
    }
    detail["evidence"] = _series(EVIDENCE_METRICS)
    detail["notifications"] = {"type": "array", "items": ref("Delivery"), "description": "in order"}
    schemas["ApprovalResult"]["properties"]["decision"] = {"type": "string", "enum": ["approved", "denied"]}

    # Stored records from the store's models. The detail serves each through its model (every field);
    # an attempt, and an incident in a list, are served as read (a record older than a field lacks it).
    incident = _record_schema(IncidentRecord, "Incident", schemas)
    schemas["Incident"] = _all_required(incident, closed=False)
    stored = copy.deepcopy(incident)
    stored["required"] = sorted({*IncidentRecord.model_json_schema()["required"], *INCIDENT_INDEX_KEYS})
    stored["description"] = "An incident as stored (a timeline or overview item)."
    schemas["StoredIncident"] = stored
    schemas["DecisionStep"] = _all_required(_record_schema(DecisionRecord, "DecisionStep", schemas), True)
    schemas["LlmCall"] = _all_required(_record_schema(LlmCallRecord, "LlmCall", schemas), closed=True)
    schemas["Delivery"] = _all_required(_record_schema(DeliveryRecord, "Delivery", schemas), closed=True)
    attempt = _record_schema(RemediationAttempt, "Attempt", schemas)
    attempt["properties"].update(
        {
            **APPROVAL_FIELDS,
            "awaiting_approval": {"type": "boolean", "description": "a human may approve or deny it now"},
        }
    )
    attempt["required"] = [*RemediationAttempt.model_json_schema()["required"], "awaiting_approval"]
    # The Step Functions task token never leaves the server.
    attempt["not"] = {"required": ["task_token"]}
    schemas["Attempt"] = attempt

    # Envelopes the views build as dict literals (views/api.py, queries.log_tail), and errors.
    schemas["Error"] = _closed({"error": {"type": "string", "description": "what was wrong, and what is accepted"}})
    schemas["Point"] = _closed({"t": {"type": "string", "format": "date-time"}, "v": {"type": "number"}})
    schemas["IncidentPage"] = _closed(
        {
            "items": {"type": "array", "items": ref("StoredIncident"), "maxItems": MAX_PAGE},
            "next_token": {
                "oneOf": [PAGE_TOKEN, {"type": "null"}],
                "description": "pass as page_token, with the same filters, for the next page; null on the last",
            },
        },
        "incidents newest first",
    )
    schemas["ServiceList"] = _closed({"services": {"type": "array", "items": {"type": "string"}}})
    schemas["MetricSeries"] = _closed({"service": {"type": "string"}, "series": _series(SERVICE_METRICS)})
    schemas["LogEvent"] = _closed(
        {
            "event_id": {"type": "string"},
            "timestamp": {"type": "integer", "description": "epoch milliseconds"},
            "at": {"type": "string", "format": "date-time"},
            "message": {"type": "string"},
        }
    )
    schemas["LogTail"] = _closed(
        {
            "service": {"type": "string"},
            "log_group": {"type": "string"},
            "events": {"type": "array", "items": ref("LogEvent"), "description": "oldest first"},
            "error": {"type": ["string", "null"], "description": "why there are no events (no log group)"},
        }
    )
    schemas["OpenApiDocument"] = {
        "type": "object",
        "required": ["openapi", "info", "paths", "components"],
        "properties": {
            "openapi": {"type": "string"},
            "info": {"type": "object", "additionalProperties": True},
            "paths": {
                "type": "object",
                "description": "operations by path and method",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["summary", "responses"],
                        "additionalProperties": True,
                    },
                },
            },
            "components": {"type": "object", "additionalProperties": True},
        },
    }
    return schemas


def component_schemas() -> dict[str, Schema]:
    return copy.deepcopy(_generated_schemas())


def _json(description: str, schema_name: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref(schema_name)}}}


def _error(description: str) -> Schema:
    return _json(description, "Error")


NO_STACK = _error("the stack's discovery document is missing (nothing deployed at this endpoint)")


def _param(name: str, where: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


_INCIDENT_ID = _param("incident_id", "path", {"type": "string", "pattern": INCIDENT_ID_PATTERN}, "incident id")
_SERVICE = _param("service", "path", {"type": "string", "pattern": SERVICE_NAME_PATTERN}, "service name")


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Heal-Ops dashboard API",
            "version": "1.1.0",
            "description": "Read the fleet's health, incidents, reasoning traces, metrics and logs; answer approvals. "
            'Writes need the dashboard\'s write token as a bearer token. Every error is JSON `{"error": ...}`.',
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"writeToken": {"type": "http", "scheme": "bearer"}},
            "schemas": component_schemas(),
        },
        "paths": {
            "/api/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": _json("OpenAPI 3.1", "OpenApiDocument")}}
            },
            "/api/overview": {
                "get": {
                    "summary": "Fleet health, open incidents, the last 24 hours (MTTD, MTTR), DLQ depth, guard state",
                    "responses": {"200": _json("overview", "Overview"), "503": NO_STACK},
                }
            },
            "/api/incidents": {
                "get": {
                    "summary": "Incidents newest first, one page (key queries on the by_status / by_service indexes)",
                    "parameters": [
                        _param("status", "query", {"type": "string", "enum": list(STATUSES)}, "status filter"),
                        _param("service", "query", {"type": "string", "pattern": SERVICE_NAME_PATTERN}, "service"),
                        _param("since", "query", {"type": "string", "format": "date-time"}, "opened at or after"),
                        _param("until", "query", {"type": "string", "format": "date-time"}, "opened at or before"),
                        _param(
                            "limit",
                            "query",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50},
                            "page size",
                        ),
                        _param("page_token", "query", PAGE_TOKEN, "next_token of the previous page, same filters"),
                    ],
                    "responses": {
                        "200": _json("a page", "IncidentPage"),
                        "400": _error("a filter, the limit or the page token is not accepted"),
                        "503": NO_STACK,
                    },
                }
            },
            "/api/incidents/{incident_id}": {
                "get": {
                    "summary": "One incident: signals, evidence, reasoning trace, LLM calls, attempts, artifacts",
                    "parameters": [_INCIDENT_ID],
                    "responses": {
                        "200": _json("the incident in full", "IncidentDetail"),
                        "400": _error("not an incident id"),
                        "404": _error("no such incident"),
                        "503": NO_STACK,
                    },
                }
            },
            "/api/incidents/{incident_id}/approvals/{attempt_id}": {
                "post": {
                    "summary": "Approve or deny a remediation attempt awaiting a human (completes its task token)",
                    "security": [{"writeToken": []}],
                    "parameters": [_INCIDENT_ID, _param("attempt_id", "path", {"type": "string"}, "attempt id")],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["decision"],
                                    "properties": {
                                        "decision": {"type": "string", "enum": ["approve", "deny"]},
                                        "reason": {"type": "string", "maxLength": 500},
                                        "by": {"type": "string", "maxLength": 64},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("answered", "ApprovalResult"),
                        "400": _error("the body or the incident id is not accepted"),
                        "401": _error("no or wrong write token"),
                        "409": _error("no such attempt, not awaiting approval, or Step Functions refused the answer"),
                        "503": NO_STACK,
                    },
                }
            },
            "/api/services": {
                "get": {
                    "summary": "The fleet's service names",
                    "responses": {"200": _json("names", "ServiceList"), "503": NO_STACK},
                }
            },
            "/api/services/{service}/metrics": {
                "get": {
                    "summary": "CloudWatch GetMetricData: the service's metrics, a point per tick",
                    "parameters": [
                        _SERVICE,
                        _param(
                            "minutes",
                            "query",
                            {"type": "integer", "minimum": 1, "maximum": MAX_METRIC_MINUTES, "default": 30},
                            "how far back, in minutes of the fleet's time: N times fewer real minutes "
                            "under --time-scale N",
                        ),
                    ],
                    "responses": {
                        "200": _json("series by metric name", "MetricSeries"),
                        "400": _error("not a service name, or minutes out of range"),
                        "503": NO_STACK,
                    },
                }
            },
            "/api/services/{service}/logs": {
                "get": {
                    "summary": "FilterLogEvents: the newest events of the service's log group",
                    "parameters": [
                        _SERVICE,
                        _param(
                            "since_ms", "query", {"type": "integer", "minimum": 0}, "only events after this (epoch ms)"
                        ),
                        _param(
                            "limit",
                            "query",
                            {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                            "how many",
                        ),
                    ],
                    "responses": {
                        "200": _json("events, oldest first", "LogTail"),
                        "400": _error("not a service name, or since_ms / limit out of range"),
                        "503": NO_STACK,
                    },
                }
            },
        },
    }
