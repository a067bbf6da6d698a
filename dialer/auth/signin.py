"""Signing in with a user name and password (and a TOTP code when the user has one).

Throttles, both over a sliding 15 minutes: 5 wrong passwords for one user lock that user's
sign-in for 15 minutes whatever the password (``SignInRefused`` with status 429 and the
instant to retry); 20 failures from one address hold that address back the same way.
Every sign-in, failure and lock-out is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dialer import audit
from dialer.auth.passwords import hash_password, needs_rehash, totp_valid, verify_password
from dialer.auth.roles import Principal
from dialer.secrets import SecretBox
from dialer.sql import queries

_Q = queries("dialer.auth")
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
USER_LIMIT = 5
ADDRESS_LIMIT = 20
REQUIRE_2FA_CHOICES = ("none", "admin")
BAD_CREDENTIALS = "That user name and password do not match."


class SignInRefused(Exception):
    """Why a sign-in was refused: the message to show, the HTTP status, the form field."""

    def __init__(
        self, message: str, *, status: int = 400, field: str = "password",
        retry_at: datetime | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.retry_at = retry_at


@dataclass(frozen=True)
class Attempt:
    """What the sign-in form sent, and from where."""

    name: str
    password: str
    code: str
    address: str


def _locked(until: datetime, now: datetime) -> SignInRefused:
    wait = max(1, int((until - now).total_seconds() + 59) // 60)
    return SignInRefused(
        f"Too many wrong passwords. Try again in {wait} minute{'s' if wait != 1 else ''} "
        f"(after {until:%H:%M} UTC).",
        status=429,
        retry_at=until,
    )


def _anonymous(attempt: Attempt) -> Principal:
    return Principal(token_id=None, name=f"sign-in from {attempt.address}", role="viewer")


async def _fail(
    conn: asyncpg.Connection, attempt: Attempt, user: asyncpg.Record | None, now: datetime,
    why: str,
) -> SignInRefused:  # fmt: skip
    """Record a failure; lock the user out at the fifth within the window."""
    await conn.execute(_Q["record_failure"], now, attempt.name, attempt.address)
    user_id = None if user is None else user["id"]
    details = {"name": attempt.name, "address": attempt.address, "why": why}
    who = _anonymous(attempt)
    await audit.record(conn, who, "user.sign_in_failed", "user", user_id, details, now=now)
    counts = await conn.fetchrow(_Q["failures_since"], now - WINDOW, attempt.name, attempt.address)
    if user is not None and counts["by_user"] >= USER_LIMIT:
        until = now + LOCK_FOR
        await conn.execute(_Q["lock_user"], user["id"], until)
        lock = {"name": attempt.name, "address": attempt.address, "until": until.isoformat()}
        await audit.record(conn, who, "user.locked_out", "user", user_id, lock, now=now)
        return _locked(until, now)
    if why == "code":
        return SignInRefused(
            "That code is not right. Enter the current 6-digit code.", field="code"
        )
    return SignInRefused(BAD_CREDENTIALS)


async def _address_held(
    conn: asyncpg.Connection, attempt: Attempt, now: datetime
) -> SignInRefused | None:
    counts = await conn.fetchrow(_Q["failures_since"], now - WINDOW, attempt.name, attempt.address)
    if counts["by_address"] >= ADDRESS_LIMIT:
        return _locked(counts["first_by_address"] + WINDOW, now)
    return None


async def sign_in(
    pool: asyncpg.Pool, attempt: Attempt, box: SecretBox, *, require_2fa: str, now: datetime
) -> Principal:
    """The principal of a user whose password (and code) match; ``SignInRefused`` if not.
    Failures are committed (counted, audited) before the refusal is raised."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_Q["purge_failures"], now - WINDOW)
        result = await _check(conn, attempt, box, require_2fa=require_2fa, now=now)
    if isinstance(result, SignInRefused):
        raise result
    return result


async def _check(
    conn: asyncpg.Connection, attempt: Attempt, box: SecretBox, *, require_2fa: str,
    now: datetime,
) -> Principal | SignInRefused:  # fmt: skip
    held = await _address_held(conn, attempt, now)
    if held is not None:
        return held
    user = await conn.fetchrow(_Q["find_user_by_name"], attempt.name)
    if user is not None and user["locked_until"] is not None and user["locked_until"] > now:
        return _locked(user["locked_until"], now)
    stored = None if user is None else user["password_hash"]
    if not verify_password(stored, attempt.password):
        return await _fail(conn, attempt, user, now, "password")
    assert user is not None
    if user["disabled_at"] is not None:
        gone = {"name": attempt.name, "address": attempt.address, "why": "disabled"}
        await audit.record(
            conn, _anonymous(attempt), "user.sign_in_failed", "user", user["id"], gone, now=now
        )
        return SignInRefused("This user has been disabled. Ask your manager.", status=403)
    if user["totp_secret"] is not None:
        if not attempt.code.strip():
            return SignInRefused(
                "Enter the 6-digit code from your authenticator app.", field="code"
            )
        if not totp_valid(box.decrypt(user["totp_secret"]), attempt.code, now=now):
            return await _fail(conn, attempt, user, now, "code")
    elif require_2fa == "admin" and user["role"] == "admin":
        return SignInRefused(
            "Administrators need a second factor: set one up with "
            f"“dialer user totp {user['name']}”, then sign in with its code.",
            status=403,
        )
    who = Principal(
        token_id=None, name=user["name"], role=user["role"], client_id=user["client_id"],
        agent_id=user["agent_id"], user_id=user["id"],
    )  # fmt: skip
    await conn.execute(_Q["clear_user_failures"], attempt.name)
    if needs_rehash(user["password_hash"]):
        await conn.execute(_Q["set_password"], user["id"], hash_password(attempt.password), now)
    details: dict[str, Any] = {
        "address": attempt.address,
        "second_factor": user["totp_secret"] is not None,
    }
    await audit.record(conn, who, "user.sign_in", "user", user["id"], details, now=now)
    return who
