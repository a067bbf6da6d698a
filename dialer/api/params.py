"""Query-string parsing with the same clear 400s as JSON bodies."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from dialer.errors import ValidationError
from dialer.inputs import INT64_MAX
from dialer.instants import parse_instant


def query_int(
    request: web.Request, name: str, *, default: int, lo: int = 0, hi: int | None = None
) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", field=name) from None
    top = INT64_MAX if hi is None else hi
    if value < lo or value > top:
        raise ValidationError(f"{name} must be between {lo} and {top}", field=name)
    return value


def query_instant(request: web.Request, name: str) -> datetime | None:
    return parse_instant(request.query.get(name), name)
