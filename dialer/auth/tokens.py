"""Bearer tokens: random 32 bytes shown once, stored only as their SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import asyncpg

from dialer.auth.roles import ROLES, Principal
from dialer.errors import NotFound, ValidationError
from dialer.sql import queries

TOKEN_PREFIX = "dlr_"
_Q = queries("dialer.auth")


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    """A fresh token: ``dlr_`` + 43 URL-safe characters (32 random bytes)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create_token(
    conn: asyncpg.Connection,
    *,
    name: str,
    role: str,
    now: datetime,
    client_id: int | None = None,
    agent_id: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """Create a token; return (the token, its stored row). The token is never stored."""
    name = name.strip()
    if not name:
        raise ValidationError("name must not be empty", field="name")
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "agent" and agent_id is None:
        raise ValidationError("an agent token needs the agent it acts as", field="agent_id")
    if client_id is not None and not await conn.fetchval(
        "SELECT 1 FROM clients WHERE id = $1", client_id
    ):
        raise NotFound(f"client {client_id} does not exist")
    if agent_id is not None:
        agent_client = await conn.fetchval(
            "SELECT client_id FROM agents WHERE id = $1 AND deleted_at IS NULL", agent_id
        )
        if agent_client is None:
            raise NotFound(f"agent {agent_id} does not exist")
        client_id = agent_client if client_id is None else client_id
        if client_id != agent_client:
            raise ValidationError("the agent belongs to another client", field="agent_id")
    token = new_token()
    row = await conn.fetchrow(
        _Q["insert_token"], name, role, client_id, agent_id, hash_token(token), token[:10], now
    )
    return token, dict(row)


async def authenticate(pool: asyncpg.Pool, token: str, *, now: datetime) -> Principal | None:
    """The principal of a valid, unrevoked token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_Q["find_token"], hash_token(token))
        if row is None:
            return None
        await conn.execute(_Q["touch_token"], row["id"], now)
    return Principal(
        token_id=row["id"],
        name=row["name"],
        role=row["role"],
        client_id=row["client_id"],
        agent_id=row["agent_id"],
    )


async def token_active(db: asyncpg.Pool | asyncpg.Connection, token_id: int | None) -> bool:
    """Whether a token is still valid (not revoked). Long-lived connections (an agent's
    event stream) ask before each message: a revoked token stops receiving at once, even
    when another process (``dialer token revoke``) revoked it. No token (the system) → True."""
    if token_id is None:
        return True
    return bool(await db.fetchval(_Q["token_active"], token_id))


async def revoke_token(conn: asyncpg.Connection, ident: str, *, now: datetime) -> list[str]:
    """Revoke tokens by id, prefix or name; return the names revoked."""
    rows = await conn.fetch(_Q["revoke_token"], ident, now)
    if not rows:
        raise NotFound(f"no active token matches {ident!r}")
    return [r["name"] for r in rows]


async def list_tokens(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(_Q["list_tokens"])]
