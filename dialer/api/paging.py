"""Keyset pagination shared by every list route: ``?after=ID&limit=N`` in,
``{"items": [...], "next_after": ID | null}`` out (pass ``next_after`` back as ``after``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from dialer.api.params import query_int
from dialer.api.registry import Param
from dialer.http.jsonio import json_response

DEFAULT_LIMIT = 100
PAGE_PARAMS: tuple[Param, ...] = (
    Param(
        "after",
        "return items with an id above this (the previous page's next_after)",
        {"type": "integer"},
    ),
    Param("limit", "page size (1-500, default 100)", {"type": "integer"}),
)


def page_schema(item: Mapping[str, Any]) -> dict[str, Any]:
    """JSON schema of one page of ``item``."""
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": item},
            "next_after": {"type": ["integer", "null"]},
        },
    }


@dataclass(frozen=True)
class Page:
    after: int
    limit: int


def page_of(request: web.Request, *, max_limit: int = 500) -> Page:
    """The requested page; 400 naming ``after``/``limit`` when they are not valid."""
    return Page(
        after=query_int(request, "after", default=0, lo=0),
        limit=query_int(request, "limit", default=DEFAULT_LIMIT, lo=1, hi=max_limit),
    )


def page_response(
    rows: Sequence[Mapping[str, Any]],
    page: Page,
    present: Callable[[Any], Any] = dict,
) -> web.Response:
    """One page of ``rows``; ``next_after`` is set when the page is full (more may follow)."""
    next_after = rows[-1]["id"] if len(rows) == page.limit else None
    return json_response({"items": [present(r) for r in rows], "next_after": next_after})
