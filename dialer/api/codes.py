"""A campaign's dispositions and pause codes: ``GET/PUT /api/v1/campaigns/{id}/dispositions``
and ``.../pause-codes`` (a campaign that defines none uses the defaults, ``"default": true``),
and its agent script (``.../script``, ``.../script/preview``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dialer.api.registry import Routes
from dialer.auth.roles import Permission
from dialer.campaigns import codes, scripts
from dialer.campaigns import store as campaigns
from dialer.errors import ValidationError
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, principal

routes = Routes(
    "call floor", "A campaign's dispositions (with what follows), pause codes and agent script"
)
ID = r"{id:\d+}"

DISPOSITION = {
    "type": "object",
    "required": ["code", "label", "action"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,32}$"},
        "label": {"type": "string", "maxLength": 100},
        "action": {"type": "string", "enum": list(codes.ACTIONS)},
        "retry_after_s": {"type": ["integer", "null"], "minimum": 60},
        "max_attempts": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
        "hotkey": {"type": ["string", "null"], "pattern": "^[0-9a-z]$"},
    },
}
PAUSE_CODE = {
    "type": "object",
    "required": ["code", "label"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,32}$"},
        "label": {"type": "string", "maxLength": 100},
        "paid": {"type": "boolean"},
    },
}


def _list(item: dict) -> dict:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": item, "minItems": 1, "maxItems": 50},
            "default": {"type": "boolean", "description": "the defaults (none configured)"},
        },
    }


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def _read_codes(
    request: web.Request, kind: str, fetch: Callable[[Any, int], Awaitable[list[Any]]]
) -> web.Response:
    """A campaign's list of ``kind`` (dispositions or pause codes), defaults marked."""
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, _id(request), principal(request).client_id)
        items = await fetch(conn, campaign["id"])
        configured = await codes.configured(conn, kind, campaign["id"])
    return json_response(codes.present(items, configured))


async def _replace_codes(
    request: web.Request,
    parse: Callable[[Any], list[Any]],
    save: Callable[..., Awaitable[None]],
) -> web.Response:
    """Replace a campaign's list with the request's (checked first: nothing half-stored)."""
    items = parse(await read_object(request))
    who = principal(request)
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, _id(request), who.client_id)
        await save(conn, campaign["id"], items, who, now=request.app[CLOCK].now())
    return json_response(codes.present(items, True))


@routes.get(f"/api/v1/campaigns/{ID}/dispositions", summary="The campaign's dispositions",
            permission=Permission.CAMPAIGNS_READ, response=_list(DISPOSITION))  # fmt: skip
async def get_dispositions(request: web.Request) -> web.Response:
    return await _read_codes(request, "dispositions", codes.dispositions)


@routes.put(
    f"/api/v1/campaigns/{ID}/dispositions",
    summary="Replace the campaign's dispositions (each with the action that follows it)",
    permission=Permission.CAMPAIGNS_WRITE,
    body=_list(DISPOSITION),
    response=_list(DISPOSITION),
)
async def put_dispositions(request: web.Request) -> web.Response:
    return await _replace_codes(request, codes.parse_dispositions, codes.set_dispositions)


@routes.get(f"/api/v1/campaigns/{ID}/pause-codes", summary="The campaign's pause codes",
            permission=Permission.CAMPAIGNS_READ, response=_list(PAUSE_CODE))  # fmt: skip
async def get_pause_codes(request: web.Request) -> web.Response:
    return await _read_codes(request, "pause_codes", codes.pause_codes)


@routes.put(
    f"/api/v1/campaigns/{ID}/pause-codes",
    summary="Replace the campaign's pause codes",
    permission=Permission.CAMPAIGNS_WRITE,
    body=_list(PAUSE_CODE),
    response=_list(PAUSE_CODE),
)
async def put_pause_codes(request: web.Request) -> web.Response:
    return await _replace_codes(request, codes.parse_pause_codes, codes.set_pause_codes)


SCRIPT = {
    "type": "object",
    "required": ["body"],
    "additionalProperties": False,
    "properties": {
        "body": {
            "type": "string",
            "maxLength": scripts.MAX_SCRIPT,
            "description": "a sandboxed Jinja template over the lead's fields: "
            "Hello {{ lead.first_name }}",
        }
    },
}


@routes.get(f"/api/v1/campaigns/{ID}/script", summary="The campaign's agent script",
            permission=Permission.CAMPAIGNS_READ, response=SCRIPT)  # fmt: skip
async def get_script(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, _id(request), principal(request).client_id)
        body = await scripts.get_script(conn, campaign["id"])
    return json_response({"body": body or ""})


@routes.put(
    f"/api/v1/campaigns/{ID}/script",
    summary="Set the agent script (checked: it may only use the lead's fields)",
    permission=Permission.CAMPAIGNS_WRITE,
    body=SCRIPT,
    response=SCRIPT,
)
async def put_script(request: web.Request) -> web.Response:
    text = scripts.check_body(await read_object(request))
    who = principal(request)
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, _id(request), who.client_id)
        await scripts.set_script(conn, campaign["id"], text, who, now=request.app[CLOCK].now())
    return json_response({"body": text})


@routes.post(
    f"/api/v1/campaigns/{ID}/script/preview",
    summary="The script rendered for one of the campaign's leads (as the desk shows it)",
    permission=Permission.CAMPAIGNS_READ,
    body={
        "type": "object",
        "required": ["lead_id"],
        "additionalProperties": False,
        "properties": {"lead_id": {"type": "integer"}},
    },
    response={"type": "object", "properties": {"html": {"type": ["string", "null"]}}},
)
async def preview_script(request: web.Request) -> web.Response:
    body = await read_object(request)
    extra = sorted(set(body) - {"lead_id"})
    if extra:
        raise ValidationError(f"unknown field {extra[0]!r}", field=extra[0])
    who = principal(request)
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, _id(request), who.client_id)
        html = await scripts.preview(conn, campaign["id"], body.get("lead_id"))
    return json_response({"html": html})
