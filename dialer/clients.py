"""Clients: the BPO's customer companies. Every campaign belongs to one."""

from __future__ import annotations

from typing import Any

import asyncpg

from dialer.auth.roles import Principal
from dialer.errors import Conflict, Forbidden, NotFound, ValidationError

DEFAULT_CLIENT_ID = 1


def parse_client_name(body: dict[str, Any]) -> str:
    unknown = set(body) - {"name"}
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError(f"unknown field {field!r}", field=field)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("name is required and must be a non-empty string", field="name")
    if len(name.strip()) > 200:
        raise ValidationError("name must be at most 200 characters", field="name")
    return name.strip()


async def create_client(
    conn: asyncpg.Connection, name: str, who: Principal | None = None
) -> dict[str, Any]:
    """A new client. A client-scoped token manages only its own client: it may not create
    one (it could not see it afterwards)."""
    if who is not None and who.client_id is not None:
        raise Forbidden("a token limited to one client cannot create clients")
    try:
        row = await conn.fetchrow(
            "INSERT INTO clients (name) VALUES ($1) RETURNING id, name, created_at", name
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a client named {name!r} already exists", field="name") from None
    return dict(row)


async def list_clients(conn: asyncpg.Connection, scope: int | None) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, name, created_at FROM clients WHERE $1::bigint IS NULL OR id = $1 ORDER BY id",
        scope,
    )
    return [dict(r) for r in rows]


async def get_client(conn: asyncpg.Connection, client_id: int, scope: int | None) -> dict[str, Any]:
    if scope is not None and scope != client_id:
        raise NotFound(f"client {client_id} does not exist")
    row = await conn.fetchrow("SELECT id, name, created_at FROM clients WHERE id = $1", client_id)
    if row is None:
        raise NotFound(f"client {client_id} does not exist")
    return dict(row)


async def resolve_client(conn: asyncpg.Connection, ident: str) -> int:
    """A client id from an id or a name (CLI convenience)."""
    row = await conn.fetchrow(
        "SELECT id FROM clients WHERE id::text = $1 OR lower(name) = lower($1)", ident
    )
    if row is None:
        raise NotFound(f"client {ident!r} does not exist")
    return int(row["id"])
