"""People who sign in to the console: create, list, disable, reset a password, set up TOTP.

Admins manage every user; a client's manager manages the users of that client (never an
admin). An ``agent`` user acts as one agent record (created with the user's name when none
is named). Disabling a user deletes its console sessions and wakes its agent's desktop
socket, which then finds the session gone and closes. Every change is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer import audit
from dialer.agents import store as agents
from dialer.auth.passwords import check_password, hash_password, new_totp_secret, totp_uri
from dialer.auth.roles import USER_ROLES, Principal
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.secrets import SecretBox
from dialer.sql import queries

_Q = queries("dialer.auth")
USER_FIELDS = {"name", "role", "client_id", "agent", "password"}


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise ValidationError(
            "name must be a non-empty string of at most 100 characters", field="name"
        )
    name = value.strip()
    if any(ch.isspace() for ch in name):
        raise ValidationError("name must not contain spaces", field="name")
    return name


def _role(who: Principal, value: object) -> str:
    if value not in USER_ROLES:
        raise ValidationError(f"role must be one of {', '.join(USER_ROLES)}", field="role")
    assert isinstance(value, str)
    if value == "admin" and who.client_id is not None:
        raise ValidationError("a client's manager cannot create an admin", field="role")
    return value


async def _client(conn: asyncpg.Connection, who: Principal, value: object) -> int | None:
    if value is None:
        return who.client_id
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("client_id must be an integer", field="client_id")
    if not who.sees_client(value) or not await conn.fetchval(
        "SELECT 1 FROM clients WHERE id = $1", value
    ):
        raise NotFound(f"client {value} does not exist")
    return value


async def _agent_for(
    conn: asyncpg.Connection,
    who: Principal,
    name: str,
    client_id: int | None,
    agent: object,
    now: datetime,
) -> dict[str, Any]:
    """The agent an ``agent`` user acts as: named by id or name, or created with its name."""
    if agent is None:
        body: dict[str, Any] = {"name": name}
        if client_id is not None:
            body["client_id"] = client_id
        return await agents.create(conn, body, who, now=now)
    text = str(agent).strip()
    row = await conn.fetchrow(
        "SELECT id, client_id FROM agents WHERE (id::text = $1 OR lower(name) = lower($1))"
        " AND deleted_at IS NULL AND ($2::bigint IS NULL OR client_id = $2)"
        " ORDER BY id LIMIT 1",
        text,
        client_id,
    )
    if row is None:
        raise NotFound(f"agent {text} does not exist")
    return dict(row)


async def create_user(
    conn: asyncpg.Connection, body: dict[str, Any], who: Principal, *, now: datetime
) -> dict[str, Any]:
    """A new user; ``body``: name, role, password, optional client_id and agent."""
    for key in body:
        if key not in USER_FIELDS:
            raise ValidationError(f"unknown field {key!r}", field=key)
    name = _name(body.get("name"))
    role = _role(who, body.get("role"))
    password = check_password(body.get("password"))
    if role != "agent" and body.get("agent") is not None:
        raise ValidationError("only an agent user acts as an agent", field="agent")
    async with conn.transaction():
        client_id = await _client(conn, who, body.get("client_id"))
        agent_id = None
        if role == "agent":
            agent = await _agent_for(conn, who, name, client_id, body.get("agent"), now)
            agent_id, client_id = agent["id"], agent["client_id"]
        try:
            user_id = await conn.fetchval(
                _Q["insert_user"], name, role, client_id, agent_id, hash_password(password), now
            )
        except asyncpg.UniqueViolationError as exc:
            if "agent" in str(exc.constraint_name):
                raise Conflict("that agent already has a user", field="agent") from None
            raise Conflict(f"a user named {name!r} already exists", field="name") from None
        details = {"name": name, "role": role, "client_id": client_id, "agent_id": agent_id}
        await audit.record(conn, who, "user.create", "user", user_id, details, now=now)
    return await get_user(conn, user_id, None)


async def get_user(conn: asyncpg.Connection, user_id: int, scope: int | None) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_user"], user_id, scope)
    if row is None:
        raise NotFound(f"user {user_id} does not exist")
    return dict(row)


async def list_users(conn: asyncpg.Connection, scope: int | None) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(_Q["list_users"], scope)]


async def find_user(conn: asyncpg.Connection, ident: str, scope: int | None) -> int:
    """A user's id from its id or name (CLI)."""
    found = await conn.fetchval(_Q["find_user_id"], ident.strip(), scope)
    if found is None:
        raise NotFound(f"user {ident} does not exist")
    return int(found)


async def disable_user(
    conn: asyncpg.Connection, user_id: int, who: Principal, *, now: datetime
) -> dict[str, Any]:
    """Disable a user: its sessions end now, its agent desktop socket closes at once."""
    async with conn.transaction():
        await get_user(conn, user_id, who.client_id)
        if who.user_id == user_id:
            raise Conflict("you cannot disable yourself", field="id")
        agent_id = await conn.fetchval(_Q["disable_user"], user_id, now)
        ended = await conn.execute(_Q["end_user_sessions"], user_id)
        if agent_id is not None:  # the desk socket re-checks its session and closes
            await agents.announce(conn, agent_id, "access")
        details = {"sessions_ended": int(ended.split()[-1])}
        await audit.record(conn, who, "user.disable", "user", user_id, details, now=now)
    return await get_user(conn, user_id, None)


async def reset_password(
    conn: asyncpg.Connection, user_id: int, password: object, who: Principal, *, now: datetime
) -> dict[str, Any]:
    """A new password (and the lock-out lifted); the user's sessions end."""
    checked = check_password(password)
    async with conn.transaction():
        await get_user(conn, user_id, who.client_id)
        await conn.execute(_Q["set_password"], user_id, hash_password(checked), now)
        await conn.execute(_Q["end_user_sessions"], user_id)
        await audit.record(conn, who, "user.reset_password", "user", user_id, {}, now=now)
    return await get_user(conn, user_id, None)


async def set_up_totp(
    conn: asyncpg.Connection, user_id: int, who: Principal, box: SecretBox, *, now: datetime
) -> dict[str, str]:
    """A fresh TOTP secret for the user (replacing any); returned once, stored encrypted."""
    async with conn.transaction():
        user = await get_user(conn, user_id, who.client_id)
        secret = new_totp_secret()
        await conn.execute(_Q["set_totp"], user_id, box.encrypt(secret), now)
        await audit.record(conn, who, "user.totp", "user", user_id, {}, now=now)
    return {"secret": secret, "uri": totp_uri(secret, user["name"])}
