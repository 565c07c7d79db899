"""The OpenAPI 3.1 document of ``/api/`` (served at ``/api/openapi.json``; a test validates it and
checks that it names every API route the app has)."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "what was wrong",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


_INCIDENT_ID = _param("incident_id", "path", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,80}$"}, "incident id")
_SERVICE = _param("service", "path", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}, "service name")
_OBJECT = {"type": "object", "additionalProperties": True}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Heal-Ops dashboard API",
            "version": "1.0.0",
            "description": "Read the fleet's health, incidents, reasoning traces, metrics and logs; answer approvals. "
            "Writes need the dashboard's write token as a bearer token.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"writeToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "Incident": {
                    "type": "object",
                    "required": ["incident_id", "service", "kind", "status", "opened_at"],
                    "properties": {
                        "incident_id": {"type": "string"},
                        "service": {"type": "string"},
                        "kind": {"type": "string"},
                        "status": {"type": "string", "enum": ["open", "remediating", "resolved", "escalated"]},
                        "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                        "opened_at": {"type": "string", "format": "date-time"},
                        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
                        "summary": {"type": "string"},
                        "signals": {"type": "array", "items": _OBJECT},
                    },
                    "additionalProperties": True,
                },
                "Point": {"type": "object", "properties": {"t": {"type": "string"}, "v": {"type": "number"}}},
            },
        },
        "paths": {
            "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json("OpenAPI", _OBJECT)}}},
            "/api/overview": {
                "get": {
                    "summary": "Fleet health, open incidents, the last 24 hours (MTTD, MTTR), DLQ depth, guard state",
                    "responses": {"200": _json("overview", _OBJECT), "503": _ERROR},
                }
            },
            "/api/incidents": {
                "get": {
                    "summary": "Incidents newest first, one page (key queries on the by_status / by_service indexes)",
                    "parameters": [
                        _param(
                            "status",
                            "query",
                            {"type": "string", "enum": ["open", "remediating", "resolved", "escalated"]},
                            "status filter",
                        ),
                        _param("service", "query", {"type": "string"}, "service filter"),
                        _param("since", "query", {"type": "string", "format": "date-time"}, "opened at or after"),
                        _param("until", "query", {"type": "string", "format": "date-time"}, "opened at or before"),
                        _param(
                            "limit",
                            "query",
                            {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                            "page size",
                        ),
                        _param(
                            "page_token", "query", {"type": "string"}, "next_token of the previous page, same filters"
                        ),
                    ],
                    "responses": {
                        "200": _json(
                            "a page",
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Incident"}},
                                    "next_token": {"type": ["string", "null"]},
                                },
                            },
                        ),
                        "400": _ERROR,
                    },
                }
            },
            "/api/incidents/{incident_id}": {
                "get": {
                    "summary": "One incident: signals, evidence, reasoning trace, LLM calls, attempts, artifacts",
                    "parameters": [_INCIDENT_ID],
                    "responses": {"200": _json("the incident in full", _OBJECT), "400": _ERROR, "404": _ERROR},
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
                        "200": _json("answered", _OBJECT),
                        "400": _ERROR,
                        "401": _ERROR,
                        "409": _ERROR,
                    },
                }
            },
            "/api/services": {
                "get": {
                    "summary": "The fleet's service names",
                    "responses": {
                        "200": _json(
                            "names",
                            {
                                "type": "object",
                                "properties": {"services": {"type": "array", "items": {"type": "string"}}},
                            },
                        )
                    },
                }
            },
            "/api/services/{service}/metrics": {
                "get": {
                    "summary": "CloudWatch GetMetricData: the service's metrics, one-minute averages",
                    "parameters": [
                        _SERVICE,
                        _param(
                            "minutes",
                            "query",
                            {"type": "integer", "minimum": 1, "maximum": 1440, "default": 30},
                            "how far back",
                        ),
                    ],
                    "responses": {"200": _json("series by metric name", _OBJECT), "400": _ERROR},
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
                    "responses": {"200": _json("events, oldest first", _OBJECT), "400": _ERROR},
                }
            },
        },
    }
