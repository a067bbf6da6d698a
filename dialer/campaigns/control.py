"""Starting, pausing and stopping a campaign: the one function behind the API's, the
console's and the CLI's buttons, so every front end changes state the same way.

After a change the process's engine (when it runs one) is woken, so a started campaign
dials at once and a paused one stops placing calls, instead of at the engine's next poll.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import asyncpg

from dialer.campaigns import states, store


class Waker(Protocol):
    """What a state change wakes: this process's engine (``Engine.poke``)."""

    def poke(self) -> None: ...


async def change_state(
    conn: asyncpg.Connection,
    campaign_id: int,
    action: str,
    *,
    scope: int | None,
    now: datetime,
    engine: Waker | None = None,
) -> tuple[dict[str, Any], states.Transition]:
    """Apply ``action`` (start, pause, stop) and wake ``engine`` when the state changed.

    Raises ``NotFound`` (another client's or no such campaign) and ``Conflict`` (not allowed
    from the current state, or no caller_id to start with), as ``store.transition`` does.
    """
    row, step = await store.transition(conn, campaign_id, action, scope=scope, now=now)
    if step.changes and engine is not None:
        engine.poke()
    return row, step
