"""Privacy requests: erase a person (by lead or by number at a client), export everything
held about them (subject access), and a client's retention (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.errors import ValidationError
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, RECORDINGS, principal
from dialer.privacy import erase, export, retention
from dialer.privacy.people import client_of, e164_of

routes = Routes("privacy", "Erasure, subject access export and retention of personal data")

ID = r"{id:\d+}"
ERASURE = {
    "type": "object",
    "description": "what was erased: leads (ids), attempts_anonymised, recordings_deleted, "
    "events_rewritten, dnc_entries_removed, suppressed",
}
ERASE_BY_PHONE = {
    "type": "object",
    "required": ["phone"],
    "properties": {
        "phone": {"type": "string", "description": "the person's number, any format"},
        "client_id": {"type": "integer", "description": "required for a token of every client"},
        "default_region": {"type": "string", "description": "for a national-format number"},
        "suppress": {"type": "boolean", "description": "keep a hashed suppression (default)"},
    },
}
RETENTION = {
    "type": "object",
    "required": ["lead_retention_days"],
    "properties": {"lead_retention_days": {"type": ["integer", "null"], "minimum": 1}},
}
_SUPPRESS = Param(
    "suppress",
    "keep a hashed suppression so the person is not imported again (default true)",
    {"type": "boolean"},
)


def _flag(value: Any, field: str, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValidationError(f"{field} must be true or false", field=field)


@routes.delete(
    f"/api/v1/leads/{ID}",
    summary="Erase a lead's personal data (erase=true required); anonymised counts stay",
    permission=Permission.PRIVACY,
    query=(
        Param(
            "erase",
            "must be true: a lead is erased, never silently deleted",
            {"type": "boolean"},
            required=True,
        ),
        _SUPPRESS,
    ),
    response=ERASURE,
)
async def erase_lead(request: web.Request) -> web.Response:
    if not _flag(request.query.get("erase"), "erase", default=False):
        raise ValidationError(
            "pass erase=true to erase this person's personal data (leads "
            "are not deleted otherwise)",
            field="erase",
        )
    suppress = _flag(request.query.get("suppress"), "suppress")
    async with request.app[POOL].acquire() as conn:
        done = await erase.erase_lead(
            conn,
            int(request.match_info["id"]),
            who=principal(request),
            now=request.app[CLOCK].now(),
            suppress=suppress,
        )
    await erase.delete_files(request.app.get(RECORDINGS), done)
    return json_response(done.summary())


@routes.post(
    "/api/v1/erasures",
    summary="Erase a person by number across a client's campaigns (and suppress the number)",
    permission=Permission.PRIVACY,
    body=ERASE_BY_PHONE,
    response=ERASURE,
)
async def erase_by_phone(request: web.Request) -> web.Response:
    body = await read_object(request)
    unknown = sorted(set(body) - set(ERASE_BY_PHONE["properties"]))
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    who = principal(request)
    phone = e164_of(body.get("phone"), body.get("default_region"))
    client_id = client_of(who, body.get("client_id"))
    async with request.app[POOL].acquire() as conn:
        done = await erase.erase_phone(
            conn,
            phone,
            client_id,
            who=who,
            now=request.app[CLOCK].now(),
            suppress=_flag(body.get("suppress"), "suppress"),
        )
    await erase.delete_files(request.app.get(RECORDINGS), done)
    return json_response(done.summary())


@routes.get(
    "/api/v1/leads/export",
    summary="Subject access: everything held about a person at a client, as JSON",
    permission=Permission.PRIVACY,
    query=(
        Param("phone", "the person's number, any format", required=True),
        Param("client_id", "required for a token of every client", {"type": "integer"}),
        Param("default_region", "for a national-format number"),
    ),
    response={
        "type": "object",
        "description": "leads, attempts, notes, recordings, "
        "dnc_entries, webhook_events, suppressed",
    },
)
async def export_person(request: web.Request) -> web.Response:
    who = principal(request)
    phone = e164_of(request.query.get("phone"), request.query.get("default_region"))
    client_id = client_of(who, request.query.get("client_id"))
    async with request.app[POOL].acquire() as conn:
        document = await export.subject_access(
            conn, phone, client_id, who=who, now=request.app[CLOCK].now()
        )
    return json_response(document)


@routes.get(
    f"/api/v1/clients/{ID}/retention",
    summary="A client's retention: leads and attempts older than N days are erased",
    permission=Permission.PRIVACY,
    response=RETENTION,
)
async def get_retention(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await retention.get_retention(conn, int(request.match_info["id"]), principal(request))
    return json_response(row)


@routes.put(
    f"/api/v1/clients/{ID}/retention",
    summary="Set a client's retention in days (null: kept until erased); audited",
    permission=Permission.PRIVACY,
    body=RETENTION,
    response=RETENTION,
)
async def put_retention(request: web.Request) -> web.Response:
    days = retention.parse_days(await read_object(request))
    async with request.app[POOL].acquire() as conn:
        row = await retention.set_retention(
            conn,
            int(request.match_info["id"]),
            days,
            principal(request),
            now=request.app[CLOCK].now(),
        )
    return json_response(row)
