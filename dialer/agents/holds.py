"""Held pauses: a free agent's pause must not strand the calls dialed for them.

A paced campaign places calls counting on its free agents. If one of them pauses (or logs
out) at once while those calls ring, a person who answers may find nobody: an abandoned
call that no pacer chose. So a ``pause`` or ``logout`` asked for while *available* is
*held* when one of the agent's campaigns has more calls ringing (or people waiting) for no
agent yet than it has *other* free agents: the agent stays available with the action pending
and a deadline (``pending_until``); a call that connects meanwhile still reaches them (the
pause then applies after it), though runners give calls to agents without a pending action
first, and pacers count a held agent as neither free nor due.

The hold ends (``dialer.agents.store.settle_holds``, run by the runners' upkeep) as soon as
the excess is gone, and at the deadline at the latest. The deadline is the time a call
placed now may still need an agent: the longest ring timeout of the agent's campaigns plus
the abandon wait (at most 2 s), capped at ``HOLD_CAP_S``: 27 s with the default 25-s ring
timeout. Calls placed after the request do not count on the held agent (pacers leave them
out), so by then every call that did is answered, connected or over. ``ready`` cancels it.
The rows are the truth: the API and the engine may run in different processes. The rule
is one SQL function (``dialer_calls_outnumber_agents``, migration 0023). A launch locks the
rows of the agents it counts as free while it writes its attempts and writes nothing if one
has paused (``dialer.engine.records.start_attempts``), so a pause asked for meanwhile waits
for those attempts and counts them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from dialer.sql import queries

_Q = queries("dialer.agents")
HOLD_CAP_S = 60.0  # nobody waits longer for their pause, whatever the ring timeout
HOLD_LOCK = 0x484F  # "HO": (this, campaign id) while a free agent's pause is decided


def hold_seconds(longest: float) -> float:
    """How long a pause is held, from the longest ring timeout + abandon wait."""
    return min(HOLD_CAP_S, float(longest))


async def deadline(conn: asyncpg.Connection, agent_id: int, now: datetime) -> datetime | None:
    """Until when a pause or logout agent ``agent_id`` (available) asks for now is held;
    ``None``: nothing counts on them, it applies at once. Inside the caller's transaction,
    which holds the agent's row: free agents of one campaign asking at the same instant
    are decided one after the other (``HOLD_LOCK``), each counting the others' outcome."""
    await conn.execute(_Q["hold_lock"], HOLD_LOCK, agent_id)
    need = await conn.fetchrow(_Q["hold_check"], agent_id)
    if need is None or need["hold_s"] is None:  # no campaign of theirs is short of agents
        return None
    return now + timedelta(seconds=hold_seconds(need["hold_s"]))


async def due(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    campaign_id: int | None = None,
    skip: list[int] | None = None,
) -> list[int]:
    """Held agents whose pause applies now (locked until the caller's transaction ends);
    ``campaign_id``: only that campaign's agents; ``skip``: agents being given a call."""
    rows = await conn.fetch(_Q["holds_due"], now, campaign_id, skip or [])
    return [int(r["id"]) for r in rows]
