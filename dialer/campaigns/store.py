"""Campaign storage and the operations the API, CLI and scheduler share.

Every operation takes the caller's client scope (``None`` = all clients); a campaign of
another client is reported as not found, never as forbidden, so nothing leaks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer import metrics
from dialer.audit import record
from dialer.auth.roles import Permission, Principal
from dialer.campaigns import model, states
from dialer.clients import DEFAULT_CLIENT_ID
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.outbox import enqueue
from dialer.sql import queries

_Q = queries("dialer.campaigns")
PAGE_MAX = 500


def present(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A campaign as the API shows it (effective retry policy; no internal columns)."""
    data = dict(row)
    data.pop("deleted_at", None)
    data["retry_policy"] = model.retry_policy(data.get("retry_policy"))
    return data


def _not_found(ident: object) -> NotFound:
    return NotFound(f"campaign {ident} does not exist")


async def get(conn: asyncpg.Connection, campaign_id: int, scope: int | None) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_campaign"], campaign_id, scope)
    if row is None:
        raise _not_found(campaign_id)
    return dict(row)


async def find(conn: asyncpg.Connection, ident: str, scope: int | None) -> dict[str, Any]:
    """A campaign by id or (case-insensitive) name, for the CLI."""
    rows = await conn.fetch(_Q["find_campaign"], ident.strip(), scope)
    if not rows:
        raise NotFound(f"no campaign with id or name {ident!r}")
    if len(rows) > 1:
        raise ValidationError(
            f"{ident!r} names campaigns of several clients; use the id", field="campaign"
        )
    return dict(rows[0])


async def list_page(
    conn: asyncpg.Connection,
    scope: int | None,
    *,
    state: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    if state is not None and state not in model.STATES:
        raise ValidationError(f"state must be one of {', '.join(model.STATES)}", field="state")
    rows = await conn.fetch(_Q["list_campaigns"], scope, state, after, min(limit, PAGE_MAX))
    return [dict(r) for r in rows]


def _owner(body: dict[str, Any], who: Principal) -> int:
    requested = body.get("client_id")
    if requested is None:
        return who.client_id or DEFAULT_CLIENT_ID
    if isinstance(requested, bool) or not isinstance(requested, int):
        raise ValidationError("client_id must be an integer", field="client_id")
    if not who.sees_client(requested):
        raise NotFound(f"client {requested} does not exist")
    return requested


async def _check_waiver(
    conn: asyncpg.Connection,
    who: Principal,
    body: dict[str, Any],
    values: dict[str, Any],
    previous: list[str],
    *,
    campaign_id: int | None,
    now: datetime,
) -> None:
    """Waiving a calling rule needs the override permission and a reason; it is audited."""
    waived = values.get("waived_rules")
    if waived is None or waived == sorted(previous):
        return
    if not who.can(Permission.CAMPAIGNS_OVERRIDE):
        raise ValidationError("only an admin may waive calling rules", field="waived_rules")
    reason = body.get("waiver_reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("waiving rules needs a waiver_reason", field="waiver_reason")
    if campaign_id is not None:
        await record(
            conn,
            who,
            "waive_rules",
            "campaign",
            campaign_id,
            {"from": previous, "to": waived, "reason": reason.strip()},
            now=now,
        )


async def create(
    conn: asyncpg.Connection, body: dict[str, Any], who: Principal, *, now: datetime
) -> dict[str, Any]:
    values = model.parse_campaign(body, partial=False)
    client_id = _owner(body, who)
    if not await conn.fetchval(_Q["client_exists"], client_id):
        raise NotFound(f"client {client_id} does not exist")
    async with conn.transaction():
        await _check_waiver(conn, who, body, values, [], campaign_id=None, now=now)
        columns = ["client_id", "created_at", "updated_at", *values]
        params = [client_id, now, now, *values.values()]
        placeholders = ", ".join(f"${i}" for i in range(1, len(params) + 1))
        sql = f"INSERT INTO campaigns ({', '.join(columns)}) VALUES ({placeholders}) RETURNING *"
        try:
            row = dict(await conn.fetchrow(sql, *params))
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"a campaign named {values['name']!r} already exists", field="name"
            ) from None
        if values.get("waived_rules"):
            await record(
                conn,
                who,
                "waive_rules",
                "campaign",
                row["id"],
                {"from": [], "to": values["waived_rules"], "reason": body["waiver_reason"]},
                now=now,
            )
    return row


async def update(
    conn: asyncpg.Connection,
    campaign_id: int,
    body: dict[str, Any],
    who: Principal,
    *,
    now: datetime,
) -> dict[str, Any]:
    if "client_id" in body:
        raise ValidationError("a campaign cannot move to another client", field="client_id")
    values = model.parse_campaign(body, partial=True)
    async with conn.transaction():
        current = await conn.fetchrow(_Q["get_campaign_for_update"], campaign_id, who.client_id)
        if current is None:
            raise _not_found(campaign_id)
        model.check_period(
            values.get("starts_at", current["starts_at"]), values.get("ends_at", current["ends_at"])
        )
        await _check_waiver(
            conn,
            who,
            body,
            values,
            list(current["waived_rules"]),
            campaign_id=campaign_id,
            now=now,
        )
        if not values:
            return dict(current)
        sets = ", ".join(f"{col} = ${i}" for i, col in enumerate(values, start=3))
        sql = f"UPDATE campaigns SET updated_at = $2, {sets} WHERE id = $1 RETURNING *"
        try:
            row = await conn.fetchrow(sql, campaign_id, now, *values.values())
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"a campaign named {values['name']!r} already exists", field="name"
            ) from None
    return dict(row)


async def transition(
    conn: asyncpg.Connection,
    campaign_id: int,
    action: str,
    *,
    scope: int | None,
    now: datetime,
    reason: str = "manual",
    expect: frozenset[str] | None = None,
) -> tuple[dict[str, Any], states.Transition]:
    """Apply ``action`` (start, pause, stop, complete); emit ``campaign.state_changed``.

    ``expect`` (used by the scheduler) skips the change unless the campaign is in one of
    those states, so a schedule never overrides a manager's deliberate pause or stop.
    """
    async with conn.transaction():
        current = await conn.fetchrow(_Q["get_campaign_for_update"], campaign_id, scope)
        if current is None:
            raise _not_found(campaign_id)
        if expect is not None and current["state"] not in expect:
            return dict(current), states.Transition(action, current["state"], current["state"])
        try:
            step = states.plan(action, current["state"])
        except states.TransitionError as exc:
            raise Conflict(str(exc), field="state") from None
        if not step.changes:
            return dict(current), step
        if step.target == "running" and not current["caller_id"]:
            raise Conflict("set a caller_id before starting the campaign", field="caller_id")
        row = dict(await conn.fetchrow(_Q["set_state"], campaign_id, step.target, reason, now))
        await enqueue(
            conn,
            "campaign.state_changed",
            client_id=row["client_id"],
            campaign_id=campaign_id,
            now=now,
            data={
                "campaign_id": campaign_id,
                "name": row["name"],
                "from": step.source,
                "to": step.target,
                "reason": reason,
            },
        )
    metrics.CAMPAIGN_TRANSITIONS.labels(str(campaign_id), step.target, reason).inc()
    return row, step


async def delete(
    conn: asyncpg.Connection, campaign_id: int, who: Principal, *, now: datetime
) -> None:
    """Hide a campaign that is not running; its leads and attempts stay for the record."""
    async with conn.transaction():
        current = await conn.fetchrow(_Q["get_campaign_for_update"], campaign_id, who.client_id)
        if current is None:
            raise _not_found(campaign_id)
        if current["state"] == "running":
            raise Conflict("stop the campaign before deleting it", field="state")
        await conn.execute(_Q["soft_delete"], campaign_id, now)
        await record(
            conn, who, "delete", "campaign", campaign_id, {"name": current["name"]}, now=now
        )
