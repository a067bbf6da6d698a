"""Console sessions: signing in with a user name and password, or an API token, opens a
server-side session.

The browser holds only ``<session id>.<HMAC>`` in an HttpOnly cookie; the database holds the
SHA-256 of the session id, the token or user it acts as, its CSRF token, pending flash
messages and its expiry. The principal is rebuilt from the token (user) row on every
request, so revoking the token, disabling the user or changing a role takes effect at once.

Expiry slides: each request pushes ``expires_at`` to ``now + IDLE_TIMEOUT`` (written at most
once a minute), never past ``created_at + MAX_AGE``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg

from dialer.auth.roles import Principal
from dialer.sql import queries

IDLE_TIMEOUT = timedelta(hours=8)
MAX_AGE = timedelta(days=7)
TOUCH_EVERY = timedelta(seconds=60)

_Q = queries("dialer.ui")

EndReason = Literal["expired", "revoked"]
FlashKind = Literal["success", "error", "info"]


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who it acts as and what its forms must send back."""

    id: int
    principal: Principal
    csrf_token: str
    expires_at: datetime
    client_name: str | None = None
    flash: list[dict[str, str]] = field(default_factory=list)


def _hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8")).digest()


def _mac(key: bytes, value: str) -> str:
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(key: bytes, value: str) -> str:
    """``value.<mac>``: a cookie value the server can recognise as its own."""
    return f"{value}.{_mac(key, value)}"


def unsign(key: bytes, signed: str | None) -> str | None:
    """The value of a cookie made by ``sign`` with ``key``; None if absent or forged."""
    if not signed or len(signed) > 256:
        return None
    value, dot, mac = signed.rpartition(".")
    if not dot or not value or not hmac.compare_digest(mac, _mac(key, value)):
        return None
    return value


def _expiry(created_at: datetime, now: datetime) -> datetime:
    return min(now + IDLE_TIMEOUT, created_at + MAX_AGE)


async def start(
    conn: asyncpg.Connection, who: Principal, *, key: bytes, now: datetime
) -> tuple[str, Session]:
    """Open a session for an authenticated principal; return (cookie value, session).

    Expired sessions of every user are purged here, so the table never grows unbounded.
    """
    if (who.token_id is None) == (who.user_id is None):
        raise ValueError("a console session acts as one token or one user")
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = _expiry(now, now)
    async with conn.transaction():
        await conn.execute(_Q["purge_expired"], now)
        row_id = await conn.fetchval(
            _Q["insert_session"], _hash(session_id), who.token_id, csrf, now, expires, who.user_id
        )
    return sign(key, session_id), Session(row_id, who, csrf, expires)


async def load(
    pool: asyncpg.Pool, cookie: str | None, *, key: bytes, now: datetime
) -> tuple[Session | None, EndReason | None]:
    """The session a cookie names, or (None, why it ended) — None when there was none."""
    session_id = unsign(key, cookie)
    if session_id is None:
        return None, None
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_Q["load_session"], _hash(session_id))
        if row is None:
            return None, None
        if row["revoked_at"] is not None or row["expires_at"] <= now:
            await conn.execute(_Q["delete_session"], row["id"])
            return None, "revoked" if row["revoked_at"] is not None else "expired"
        expires = row["expires_at"]
        if now - row["last_seen_at"] >= TOUCH_EVERY:
            expires = _expiry(row["created_at"], now)
            await conn.execute(_Q["touch_session"], row["id"], now, expires)
    who = Principal(
        token_id=row["token_id"],
        name=row["name"],
        role=row["role"],
        client_id=row["client_id"],
        agent_id=row["agent_id"],
        user_id=row["user_id"],
    )
    return Session(
        row["id"], who, row["csrf_token"], expires, row["client_name"], list(row["flash"])
    ), None


async def alive(db: asyncpg.Connection | asyncpg.Pool, session: Session, *, now: datetime) -> bool:
    """Whether ``session`` still stands (long-lived sockets ask before each message): not
    signed out, not expired, its token not revoked."""
    return bool(await db.fetchval(_Q["session_alive"], session.id, now))


async def end(conn: asyncpg.Connection | asyncpg.Pool, session: Session) -> None:
    """Sign out: the session row is deleted, so the cookie is worthless from now on."""
    await conn.execute(_Q["delete_session"], session.id)


async def push_flash(
    conn: asyncpg.Connection | asyncpg.Pool, session: Session, kind: FlashKind, text: str
) -> None:
    """Queue a message for the next full page this session sees (after a redirect)."""
    await conn.execute(_Q["push_flash"], session.id, [{"kind": kind, "text": text}])


async def take_flash(conn: asyncpg.Connection | asyncpg.Pool, session: Session) -> list[Any]:
    """The queued messages, removed from the session (only those this request loaded)."""
    if session.flash:
        await conn.execute(_Q["drop_flash"], session.id, len(session.flash))
    return session.flash
