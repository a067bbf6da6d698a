"""``/api/v1/clients``: the BPO's customer companies (admin)."""

from __future__ import annotations

from aiohttp import web

from dialer import clients
from dialer.api.registry import Routes
from dialer.auth.roles import Permission
from dialer.http.jsonio import json_response, read_object
from dialer.http.keys import POOL, principal

routes = Routes("clients", "The BPO's customer companies; every campaign belongs to one")

CLIENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}


@routes.post(
    "/api/v1/clients",
    summary="Create a client (not with a client-scoped token: 403)",
    permission=Permission.CLIENTS_WRITE,
    body={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    status=201,
    response=CLIENT,
)
async def create_client(request: web.Request) -> web.Response:
    name = clients.parse_client_name(await read_object(request))
    async with request.app[POOL].acquire() as conn:
        row = await clients.create_client(conn, name, principal(request))
    return json_response(row, status=201)


@routes.get(
    "/api/v1/clients",
    summary="List clients (a client-scoped token sees only its own)",
    permission=Permission.CLIENTS_READ,
    response={"type": "object", "properties": {"items": {"type": "array", "items": CLIENT}}},
)
async def list_clients(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await clients.list_clients(conn, principal(request).client_id)
    return json_response({"items": rows})


@routes.get(
    r"/api/v1/clients/{id:\d+}",
    summary="One client",
    permission=Permission.CLIENTS_READ,
    response=CLIENT,
)
async def get_client(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await clients.get_client(
            conn, int(request.match_info["id"]), principal(request).client_id
        )
    return json_response(row)
