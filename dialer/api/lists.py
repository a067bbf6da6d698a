"""``/api/v1/lists/{id}`` (switch a list on or off), ``/api/v1/lists/{id}/reset`` (another
pass) and ``GET /api/v1/leads?phone=`` (find leads by number, in any format)."""

from __future__ import annotations

from aiohttp import web

from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.errors import ValidationError
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, principal
from dialer.leads import lists

routes = Routes("lists", "Lead lists on the floor: active or not, reset for another pass")
ID = r"{id:\d+}"
LIST = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "campaign_id": {"type": "integer"},
        "name": {"type": "string"},
        "active": {"type": "boolean"},
    },
}


@routes.patch(
    f"/api/v1/lists/{ID}",
    summary="Switch a list on or off (an inactive list's leads are not dialed)",
    permission=Permission.LEADS_WRITE,
    body={
        "type": "object",
        "required": ["active"],
        "additionalProperties": False,
        "properties": {"active": {"type": "boolean"}},
    },
    response=LIST,
)
async def patch_list(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await lists.set_active(
            conn, int(request.match_info["id"]), body, principal(request),
            now=request.app[CLOCK].now(),
        )  # fmt: skip
    return json_response({k: row[k] for k in ("id", "campaign_id", "name", "active")})


@routes.post(
    f"/api/v1/lists/{ID}/reset",
    summary="Make the list's leads with these last outcomes callable again (a new pass)",
    permission=Permission.LEADS_WRITE,
    body={
        "type": "object",
        "required": ["outcomes"],
        "additionalProperties": False,
        "properties": {
            "outcomes": {
                "type": "array",
                "items": {"type": "string", "enum": list(lists.RESETTABLE)},
            }
        },
    },
    response={
        "type": "object",
        "properties": {
            "list_id": {"type": "integer"},
            "outcomes": {"type": "array"},
            "reset": {"type": "integer"},
        },
    },
)
async def reset_list(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        result = await lists.reset_list(
            conn, int(request.match_info["id"]), body, principal(request),
            now=request.app[CLOCK].now(),
        )  # fmt: skip
    return json_response(result)


@routes.get(
    "/api/v1/leads",
    summary="Find leads by phone number (any format) in the campaigns the caller may see",
    permission=Permission.LEADS_READ,
    query=(
        Param("phone", "the number, in any format", required=True),
        Param("default_region", "country for numbers without +: ISO code such as GB"),
    ),
)
async def search_leads(request: web.Request) -> web.Response:
    phone = request.query.get("phone", "").strip()
    if not phone:
        raise ValidationError("give ?phone=", field="phone")
    async with request.app[POOL].acquire() as conn:
        e164, rows = await lists.find_by_phone(
            conn, phone, request.query.get("default_region"), principal(request).client_id
        )
    return json_response({"phone_e164": e164, "items": rows})
