"""The OpenAPI 3.1 document, built from the route tables (so it lists every route)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dialer import __version__
from dialer.api.registry import Endpoint

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what went wrong, for a human"},
        "field": {"type": "string", "description": "the input field at fault, when one is"},
    },
}
_ERRORS = {
    400: "invalid input (the `field` names the culprit)",
    401: "missing, unknown or revoked bearer token",
    403: "the token's role may not do this",
    404: "no such object (or not visible to this token's client)",
    409: "conflicts with existing data or state",
    422: "this Idempotency-Key was already used for a different request",
    429: "too many requests for this token or address: wait `Retry-After` seconds",
    503: "the database (or a part of the service this needs) is unavailable: retry shortly",
}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
        for name in re.findall(r"\{(\w+)", endpoint.path)
    ]
    params += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description,
            "schema": p.schema,
        }
        for p in endpoint.query
    ]
    ok: dict[str, Any] = {"description": "success"}
    if endpoint.status != 204:
        ok["content"] = {endpoint.response_content_type: {"schema": endpoint.response or {}}}
    op: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": endpoint.handler.__name__,
        "tags": [endpoint.tag],
        "parameters": params,
        "responses": {str(endpoint.status): ok},
    }
    if endpoint.permission is not None:
        op["security"] = [{"bearer": []}]
        op["description"] = f"Needs permission `{endpoint.permission.value}`."
        for code, text in _ERRORS.items():
            op["responses"][str(code)] = {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
    else:
        op["security"] = []
    if endpoint.body is not None and endpoint.body_content_type != "application/json":
        op["responses"]["413"] = {
            "description": "the upload is larger than DIALER_MAX_UPLOAD_BYTES, or a "
            "compressed one inflates past 50 times its length",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        op["responses"]["507"] = {
            "description": "the server's upload space is full: nothing was kept; retry later",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if endpoint.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {endpoint.body_content_type: {"schema": endpoint.body}},
        }
    return op


def build_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    tags = []
    for endpoint in endpoints:
        paths.setdefault(endpoint.doc_path, {})[endpoint.method.lower()] = _operation(endpoint)
        if endpoint.tag not in tags:
            tags.append(endpoint.tag)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dialer API",
            "version": __version__,
            "description": "Outbound campaign dialer. Every /api/v1 route except this "
            "document needs `Authorization: Bearer <token>` (create one with "
            '`dialer token create`). Errors are JSON: `{"error": ..., "field": ...}`.',
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }
