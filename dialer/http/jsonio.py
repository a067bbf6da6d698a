"""JSON bodies in and out: clear 400s for unreadable input, ISO 8601 for times."""

from __future__ import annotations

import json
import logging
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aiohttp import web

from dialer.errors import ValidationError
from dialer.inputs import parse_json

log = logging.getLogger(__name__)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by null (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _finite(float(value))
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite(v) for v in value]
    if hasattr(value, "to_dict"):
        return _finite(value.to_dict())
    return value


def dumps(data: Any) -> str:
    """Strict JSON: a non-finite number (which nothing should have stored) becomes null
    rather than the invalid ``NaN`` token that breaks every client's parser."""
    try:
        return json.dumps(data, default=_default, ensure_ascii=False, allow_nan=False)
    except ValueError:
        log.warning("non-finite number in a response, sent as null")
        return json.dumps(_finite(data), default=_default, ensure_ascii=False, allow_nan=False)


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    body = dumps(data).encode("utf-8", "backslashreplace")
    return web.Response(
        body=body,
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def error_response(
    status: int, message: str, *, field: str | None = None, **extra: Any
) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return json_response(body, status=status)


async def read_json(request: web.Request, *, limit: int = 10 * 1024 * 1024) -> Any:
    """The request body parsed as JSON; ``ValidationError`` when it is not."""
    if request.content_length is not None and request.content_length > limit:
        raise ValidationError(f"request body larger than {limit} bytes", field="body")
    raw = await request.read()
    if not raw.strip():
        raise ValidationError("request body must be JSON", field="body")
    return parse_json(raw)


async def read_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    return data
