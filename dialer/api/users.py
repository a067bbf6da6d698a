"""``/api/v1/users``: people who sign in to the console with a user name and password.

Admins manage every user; a client's manager those of its client (never an admin)."""

from __future__ import annotations

from aiohttp import web

from dialer.api.registry import Routes
from dialer.auth import users
from dialer.auth.roles import USER_ROLES, Permission
from dialer.errors import ValidationError
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import CLOCK, POOL, SETTINGS, principal
from dialer.secrets import secret_box

routes = Routes("users", "People who sign in to the console (argon2id passwords, optional TOTP)")
ID = r"{id:\d+}"

USER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": list(USER_ROLES)},
        "client_id": {"type": ["integer", "null"]},
        "agent_id": {"type": ["integer", "null"]},
        "agent_name": {"type": ["string", "null"]},
        "totp": {"type": "boolean", "description": "has a TOTP second factor"},
        "locked_until": {"type": ["string", "null"], "format": "date-time"},
        "disabled_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
PASSWORD = {"type": "string", "minLength": 10, "maxLength": 200}


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


@routes.post(
    "/api/v1/users",
    summary="Create a user (an agent user is linked to an agent, created when not named)",
    permission=Permission.USERS_WRITE,
    body={
        "type": "object",
        "required": ["name", "role", "password"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "role": {"type": "string", "enum": list(USER_ROLES)},
            "password": PASSWORD,
            "client_id": {"type": "integer"},
            "agent": {
                "type": ["integer", "string"],
                "description": "the agent (id or name) an agent user acts as",
            },
        },
    },
    status=201,
    response=USER,
)
async def create_user(request: web.Request) -> web.Response:
    body = await read_object(request)
    async with request.app[POOL].acquire() as conn:
        row = await users.create_user(conn, body, principal(request), now=request.app[CLOCK].now())
    return json_response(row, status=201)


@routes.get(
    "/api/v1/users",
    summary="List users (a client's manager sees that client's)",
    permission=Permission.USERS_READ,
    response={"type": "object", "properties": {"items": {"type": "array", "items": USER}}},
)
async def list_users(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await users.list_users(conn, principal(request).client_id)
    return json_response({"items": rows})


@routes.get(f"/api/v1/users/{ID}", summary="One user", permission=Permission.USERS_READ,
            response=USER)  # fmt: skip
async def get_user(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await users.get_user(conn, _id(request), principal(request).client_id)
    return json_response(row)


@routes.post(
    f"/api/v1/users/{ID}/disable",
    summary="Disable a user: its console sessions and agent desktop socket end at once",
    permission=Permission.USERS_WRITE,
    response=USER,
)
async def disable_user(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await users.disable_user(
            conn, _id(request), principal(request), now=request.app[CLOCK].now()
        )
    return json_response(row)


@routes.post(
    f"/api/v1/users/{ID}/password",
    summary="Set a new password (lifts a lock-out, ends the user's sessions)",
    permission=Permission.USERS_WRITE,
    body={
        "type": "object",
        "required": ["password"],
        "additionalProperties": False,
        "properties": {"password": PASSWORD},
    },
    response=USER,
)
async def reset_password(request: web.Request) -> web.Response:
    body = await read_object(request)
    extra = sorted(set(body) - {"password"})
    if extra:
        raise ValidationError(f"unknown field {extra[0]!r}", field=extra[0])
    async with request.app[POOL].acquire() as conn:
        row = await users.reset_password(
            conn, _id(request), body.get("password"), principal(request),
            now=request.app[CLOCK].now(),
        )  # fmt: skip
    return json_response(row)


@routes.post(
    f"/api/v1/users/{ID}/totp",
    summary="Give the user a new TOTP second factor; the secret is shown only in this answer",
    permission=Permission.USERS_WRITE,
    response={
        "type": "object",
        "properties": {"secret": {"type": "string"}, "uri": {"type": "string"}},
    },
)
async def set_up_totp(request: web.Request) -> web.Response:
    box = secret_box(request.app[SETTINGS])
    async with request.app[POOL].acquire() as conn:
        row = await users.set_up_totp(
            conn, _id(request), principal(request), box, now=request.app[CLOCK].now()
        )
    return json_response(row)
