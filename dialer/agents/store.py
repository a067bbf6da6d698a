"""Agents: storage, campaign assignment, and state changes shared by the API, the engine and
the simulated agents.

The ``agents`` row is the one truth about an agent's state across processes. Every change
goes through ``act`` (people's actions and the engine's ``hangup``/``release``/``finish``,
with the row locked) or ``reserve`` (the engine's compare-and-set when it gives a call to an
available agent). A trigger logs each change and announces it on the ``dialer_agents``
channel (see ``dialer.agents.bus``), so runners and desktops in every process follow along.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import asyncpg

from dialer.agents import holds
from dialer.agents.states import PENDING, AgentStateError, AgentStep, plan
from dialer.audit import record as audit
from dialer.auth.roles import Principal
from dialer.clients import DEFAULT_CLIENT_ID
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.sql import queries

_Q = queries("dialer.agents")
PAGE_MAX = 500
FIELDS = {"name", "campaigns", "endpoint", "client_id", "blended"}
_HIDDEN = ("deleted_at",)


def present(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """An agent as the API shows it (``pending_until``: the deadline of a held pause, only
    while the agent is available)."""
    data = dict(row)
    for key in _HIDDEN:
        data.pop(key, None)
    data["campaigns"] = list(data.get("campaigns") or [])
    if data.get("state") != "available" or not data.get("pending_action"):
        data["pending_until"] = None
    return data


def _not_found(agent_id: object) -> NotFound:
    return NotFound(f"agent {agent_id} does not exist")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name must be a non-empty string", field="name")
    if len(value.strip()) > 200:
        raise ValidationError("name must be at most 200 characters", field="name")
    return value.strip()


def _endpoint(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationError(
            "endpoint must be a softphone endpoint such as PJSIP/1001 (at most 200 characters)",
            field="endpoint",
        )
    return value.strip()


def _blended(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(
            "blended must be true (takes inbound calls too) or false", field="blended"
        )
    return value


def _campaign_ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise ValidationError("campaigns must be a list of campaign ids", field="campaigns")
    return sorted(set(value))


def _check_fields(body: dict[str, Any]) -> None:
    for key in body:
        if key not in FIELDS:
            raise ValidationError(f"unknown field {key!r}", field=key)


async def _set_campaigns(
    conn: asyncpg.Connection, agent_id: int, client_id: int, ids: list[int]
) -> None:
    found = {r["id"] for r in await conn.fetch(_Q["client_campaigns"], ids, client_id)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError(f"campaign {missing[0]} does not exist", field="campaigns")
    await conn.execute(_Q["clear_campaigns"], agent_id)
    if ids:
        await conn.execute(_Q["add_campaigns"], agent_id, ids)


async def get(conn: asyncpg.Connection, agent_id: int, scope: int | None) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_agent"], agent_id, scope)
    if row is None:
        raise _not_found(agent_id)
    return dict(row)


async def resolve(conn: asyncpg.Connection, ident: str, scope: int | None) -> int:
    """An agent id from an id or a name (CLI convenience); a name two clients use is refused."""
    rows = await conn.fetch(_Q["find_agents"], ident.strip(), scope)
    exact = [r for r in rows if str(r["id"]) == ident.strip()]
    if exact:
        return int(exact[0]["id"])
    if not rows:
        raise _not_found(ident)
    if len(rows) > 1:
        ids = ", ".join(str(r["id"]) for r in rows)
        raise ValidationError(
            f"{len(rows)} agents are named {ident!r} (ids {ids}): give the id or the client",
            field="agent",
        )
    return int(rows[0]["id"])


async def list_page(
    conn: asyncpg.Connection,
    scope: int | None,
    *,
    state: str | None = None,
    campaign_id: int | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        _Q["list_agents"], scope, state, campaign_id, after, min(limit, PAGE_MAX)
    )
    return [dict(r) for r in rows]


async def create(
    conn: asyncpg.Connection,
    body: dict[str, Any],
    who: Principal,
    *,
    now: datetime,
    simulated: bool = False,
) -> dict[str, Any]:
    """A new agent (offline), assigned to the campaigns it works."""
    _check_fields(body)
    name = _name(body.get("name"))
    endpoint = _endpoint(body.get("endpoint"))
    campaigns = _campaign_ids(body.get("campaigns", []))
    blended = _blended(body.get("blended", False))
    client_id = body.get("client_id")
    if client_id is None:
        client_id = who.client_id or DEFAULT_CLIENT_ID
    elif isinstance(client_id, bool) or not isinstance(client_id, int):
        raise ValidationError("client_id must be an integer", field="client_id")
    elif not who.sees_client(client_id):
        raise NotFound(f"client {client_id} does not exist")
    async with conn.transaction():
        try:
            agent_id = await conn.fetchval(
                _Q["insert_agent"], client_id, name, endpoint, simulated, now, blended
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"an agent named {name!r} already exists", field="name") from None
        except asyncpg.ForeignKeyViolationError:
            raise NotFound(f"client {client_id} does not exist") from None
        await _set_campaigns(conn, agent_id, client_id, campaigns)
    return await get(conn, agent_id, None)


async def update(
    conn: asyncpg.Connection,
    agent_id: int,
    body: dict[str, Any],
    who: Principal,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change name, endpoint, campaigns or ``blended``; runners pick up a new assignment
    (or blending) at once. A change of ``blended`` is audited (``agent.blended``) when
    ``now`` is given."""
    _check_fields(body)
    if "client_id" in body:
        raise ValidationError("an agent cannot move to another client", field="client_id")
    name = _name(body["name"]) if "name" in body else None
    endpoint = _endpoint(body.get("endpoint"))
    blended = _blended(body["blended"]) if "blended" in body else None
    async with conn.transaction():
        row = await conn.fetchrow(_Q["get_agent_for_update"], agent_id, who.client_id)
        if row is None:
            raise _not_found(agent_id)
        try:
            await conn.execute(_Q["update_agent"], agent_id, name, "endpoint" in body, endpoint)
        except asyncpg.UniqueViolationError:
            raise Conflict(f"an agent named {name!r} already exists", field="name") from None
        if blended is not None and blended != row["blended"]:
            await conn.execute(_Q["set_blended"], agent_id, blended)
            if now is not None:
                details = {"blended": blended}
                await audit(conn, who, "agent.blended", "agent", agent_id, details, now=now)
        if "campaigns" in body:
            await _set_campaigns(conn, agent_id, row["client_id"], _campaign_ids(body["campaigns"]))
        if "campaigns" in body or blended is not None:
            await conn.execute(_Q["announce_change"], agent_id, "assignment", None)
    return await get(conn, agent_id, None)


async def delete(conn: asyncpg.Connection, agent_id: int, who: Principal, *, now: datetime) -> None:
    """Remove an agent who is not on a call (their attempts keep the reference)."""
    async with conn.transaction():
        row = await conn.fetchrow(_Q["get_agent_for_update"], agent_id, who.client_id)
        if row is None:
            raise _not_found(agent_id)
        if row["state"] in ("on_call", "wrap_up"):
            raise Conflict(f"the agent is {row['state']}: log them out first", field="state")
        await conn.execute(_Q["soft_delete"], agent_id, now)


def _fields_after(step: AgentStep, row: asyncpg.Record) -> tuple[Any, Any, Any]:
    """(attempt_id, campaign_id, preview_lead_id) the agent keeps in its new state."""
    if step.target in ("on_call", "wrap_up"):
        return row["attempt_id"], row["campaign_id"], row["preview_lead_id"]
    return None, None, None


async def act(
    conn: asyncpg.Connection,
    agent_id: int,
    action: str,
    *,
    scope: int | None,
    now: datetime,
    reason: str | None = None,
    expect_attempt: int | None = None,
) -> tuple[dict[str, Any], AgentStep]:
    """Apply ``action`` to the agent with the row locked; ``Conflict`` if it does not apply.

    ``expect_attempt`` (engine actions) makes the action a no-op unless the agent is still
    on that call: a late event never moves an agent who has moved on. A pause or logout
    asked for while available is held while calls ring that count on the agent
    (``dialer.agents.holds``).
    """
    # Inside the caller's transaction the row lock is enough: no savepoint round trips.
    outer = conn.is_in_transaction()
    async with contextlib.nullcontext() if outer else conn.transaction():
        row = await conn.fetchrow(_Q["get_agent_for_update"], agent_id, scope)
        if row is None:
            raise _not_found(agent_id)
        if expect_attempt is not None and row["attempt_id"] != expect_attempt:
            return dict(row), AgentStep(action, row["state"], row["state"])
        until = None
        if action in PENDING and row["state"] == "available":
            until = await holds.deadline(conn, agent_id, now)
        try:
            step = plan(
                action,
                row["state"],
                row["pending_action"],
                reason=reason,
                pending_reason=row["pending_reason"],
                hold=until is not None,
            )
        except AgentStateError as exc:
            raise Conflict(str(exc), field="state") from None
        if step.target != "available" or step.pending is None:
            until = None
        elif until is None:
            until = row["pending_until"]  # still held (e.g. a second login)
        attempt_id, campaign_id, lead_id = _fields_after(step, row)
        new = await conn.fetchrow(
            _Q["set_state"],
            agent_id,
            step.target,
            step.reason if step.changes_state or step.reason else row["state_reason"],
            step.pending,
            step.pending_reason,
            now if step.changes_state else row["state_changed_at"],
            attempt_id,
            campaign_id,
            lead_id,
            until,
        )
    return dict(new), step


async def settle_holds(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    campaign_id: int | None = None,
    skip: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Apply the held pauses whose calls are gone or whose deadline passed (of one
    campaign's agents, or all); returns the agents as they are now."""
    async with conn.transaction():
        due = await holds.due(conn, now, campaign_id=campaign_id, skip=skip)
        return [(await act(conn, i, "settle", scope=None, now=now))[0] for i in due]


async def reserve(
    conn: asyncpg.Connection | asyncpg.Pool,
    agent_id: int,
    *,
    now: datetime,
    attempt_id: int | None,
    campaign_id: int,
    reason: str | None = None,
    lead_id: int | None = None,
    unless_held: bool = False,
) -> bool:
    """Give a call (or a preview) to an agent if, and only if, they are available now;
    ``unless_held``: and not holding a pause (a call dialed for them: preview, callback)."""
    got = await conn.fetchval(
        _Q["reserve_agent"], agent_id, now, reason, attempt_id, campaign_id, lead_id, unless_held
    )
    return got is not None


async def announce(
    conn: asyncpg.Connection | asyncpg.Pool, agent_id: int, event: str, lead_id: int | None = None
) -> None:
    """Tell every process something about an agent that is not a state change (``dial``,
    ``skip``, ``assignment``)."""
    await conn.execute(_Q["announce_change"], agent_id, event, lead_id)


async def campaign_agents(
    conn: asyncpg.Connection | asyncpg.Pool, campaign_id: int
) -> list[dict[str, Any]]:
    """The agents assigned to a campaign with their current state."""
    return [dict(r) for r in await conn.fetch(_Q["campaign_agents"], campaign_id)]


async def agent_in_campaign(
    conn: asyncpg.Connection | asyncpg.Pool, agent_id: int, campaign_id: int
) -> dict[str, Any] | None:
    row = await conn.fetchrow(_Q["agent_in_campaign"], agent_id, campaign_id)
    return None if row is None else dict(row)


async def preview_choice(
    conn: asyncpg.Connection, agent_id: int, choice: str, *, scope: int | None
) -> dict[str, Any]:
    """The agent dials (``dial``) or passes on (``skip``) the lead they are previewing."""
    row = await conn.fetchrow(_Q["get_agent_for_update"], agent_id, scope)
    if row is None:
        raise _not_found(agent_id)
    if row["state"] != "on_call" or row["preview_lead_id"] is None or row["attempt_id"]:
        raise Conflict("the agent has no previewed lead waiting", field="state")
    await announce(conn, agent_id, choice, row["preview_lead_id"])
    return dict(row)


async def screen_call(conn: asyncpg.Connection, attempt_id: int) -> dict[str, Any] | None:
    """The lead and campaign an agent's screen shows for a connected call."""
    row = await conn.fetchrow(_Q["screen_call"], attempt_id)
    return None if row is None else dict(row)


async def screen_lead(conn: asyncpg.Connection, lead_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(_Q["screen_lead"], lead_id)
    return None if row is None else dict(row)
