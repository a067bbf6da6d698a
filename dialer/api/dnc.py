"""``/api/v1/dnc``: do-not-call entries one by one, and bulk DNC lists (national registry
files, a client's own list) uploaded like lead lists."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.api.imports import IMPORT
from dialer.api.paging import PAGE_PARAMS, page_of, page_response
from dialer.api.params import query_int
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.dnc import store
from dialer.errors import ValidationError
from dialer.http import uploads
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, principal
from dialer.instants import parse_instant

routes = Routes("dnc", "Do-not-call lists: entries, removals, bulk and registry uploads")

ENTRY = {
    "type": "object",
    "description": "a DNC entry: phone_e164, scope (global, client, campaign), client_id, "
    "campaign_id, source, reason, created_at, expires_at",
}
ENTRY_INPUT = {
    "type": "object",
    "required": ["phone"],
    "properties": {
        "phone": {"type": "string"},
        "source": {"type": "string", "description": "internal (default), crm, tps, ..."},
        "reason": {"type": "string"},
        "scope": {"enum": ["global", "client", "campaign"]},
        "client_id": {"type": "integer"},
        "campaign_id": {"type": "integer"},
        "expires_at": {"type": "string", "format": "date-time"},
        "default_region": {"type": "string"},
    },
}
_ENTRY_KEYS = set(ENTRY_INPUT["properties"])


def _optional_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{key} must be an integer", field=key)
    return value


@routes.post(
    "/api/v1/dnc",
    summary="Add a number to a DNC list (201; 200 if it is there already); leads it covers "
    "become dnc",
    permission=Permission.DNC_WRITE,
    body=ENTRY_INPUT,
    status=201,
    response=ENTRY,
)
async def add_entry(request: web.Request) -> web.Response:
    body = await read_object(request)
    unknown = sorted(set(body) - _ENTRY_KEYS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    entry_in = store.NewEntry(
        phone=body.get("phone"),
        default_region=body.get("default_region"),
        source=body.get("source"),
        reason=body.get("reason"),
        expires_at=parse_instant(body.get("expires_at"), "expires_at"),
        client_id=_optional_int(body, "client_id"),
        campaign_id=_optional_int(body, "campaign_id"),
        scope=body.get("scope"),
    )
    async with request.app[POOL].acquire() as conn:
        entry, created, blocked = await store.add_entry(
            conn, principal(request), entry_in, now=request.app[CLOCK].now()
        )
    data = {**store.present(entry), "leads_blocked": blocked}
    return json_response(data, status=201 if created else 200)


@routes.get(
    "/api/v1/dnc",
    summary="List DNC entries (your client's and the global ones); filter by phone, source",
    permission=Permission.DNC_READ,
    query=(
        Param("phone", "a number (any format; E.164 best)"),
        Param("source", "only entries of this source"),
        Param("campaign_id", "only entries of this campaign", {"type": "integer"}),
        Param("default_region", "country of a phone written without +country code"),
        *PAGE_PARAMS,
    ),
    response={"type": "object", "properties": {"items": {"type": "array", "items": ENTRY}}},
)
async def list_entries(request: web.Request) -> web.Response:
    who = principal(request)
    page = page_of(request, max_limit=store.PAGE_MAX)
    campaign_id = query_int(request, "campaign_id", default=0, lo=0) or None
    source = request.query.get("source") or None
    async with request.app[POOL].acquire() as conn:
        phone = None
        if request.query.get("phone"):
            phone = await store.dnc_number(
                conn,
                request.query["phone"],
                region=request.query.get("default_region"),
                source=source,
                campaign_id=campaign_id,
                scope=who.client_id,
            )
        rows = await store.list_page(
            conn,
            who.client_id,
            phone=phone,
            source=source,
            campaign_id=campaign_id,
            after=page.after,
            limit=page.limit,
        )
    return page_response(rows, page, store.present)


@routes.get(
    r"/api/v1/dnc/{id:\d+}", summary="One DNC entry", permission=Permission.DNC_READ, response=ENTRY
)
async def get_entry(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await store.get(conn, int(request.match_info["id"]), principal(request).client_id)
    return json_response(store.present(row))


@routes.delete(
    r"/api/v1/dnc/{id:\d+}",
    summary="Remove one DNC entry (leads it made dnc stay dnc)",
    permission=Permission.DNC_WRITE,
    status=204,
)
async def delete_entry(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await store.remove(conn, int(request.match_info["id"]), principal(request))
    return web.Response(status=204)


@routes.delete(
    "/api/v1/dnc",
    summary="Remove a number's DNC entries (of a source / campaign); returns how many",
    permission=Permission.DNC_WRITE,
    query=(
        Param("phone", "the number", required=True),
        Param("source", "only entries of this source"),
        Param("campaign_id", "only entries of this campaign", {"type": "integer"}),
        Param("default_region", "country of a phone written without +country code"),
    ),
    response={"type": "object", "properties": {"deleted": {"type": "integer"}}},
)
async def delete_entries(request: web.Request) -> web.Response:
    who = principal(request)
    campaign_id = query_int(request, "campaign_id", default=0, lo=0) or None
    source = request.query.get("source") or None
    async with request.app[POOL].acquire() as conn:
        phone = await store.dnc_number(
            conn,
            request.query.get("phone"),
            region=request.query.get("default_region"),
            source=source,
            campaign_id=campaign_id,
            scope=who.client_id,
        )
        deleted = await store.remove_matching(
            conn, phone, who, source=source, campaign_id=campaign_id
        )
    return json_response({"deleted": deleted})


routes.post(
    "/api/v1/dnc/lists",
    summary="Upload a DNC list or national registry file (CSV of numbers); 202 with the import",
    permission=Permission.DNC_WRITE,
    body={"type": "string", "format": "binary"},
    body_content_type="text/csv",
    query=(
        Param("source", "list name: internal (default), crm, us_dnc, tps, dncl, ncpr, bloctel"),
        Param("scope", "global (unscoped tokens only), client or campaign"),
        Param("client_id", "the client of a client list", {"type": "integer"}),
        Param("campaign_id", "the campaign of a campaign list", {"type": "integer"}),
        Param("reason", "reason stored with every entry"),
        Param("expires_at", "entries lapse at this instant (ISO 8601)"),
        Param(
            "mode",
            "add (default) or replace: also remove this source's entries of this scope that "
            "the file no longer holds (refused for internal and crm)",
            {"enum": ["add", "replace"]},
        ),
        Param("default_region", "country of numbers without +country code (registries: theirs)"),
        Param("phone_column", "the number column, by name (default: detected)"),
        Param("name", "name of the import"),
    ),
    status=202,
    response=IMPORT,
)(uploads.upload_dnc_list)
