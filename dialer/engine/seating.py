"""Seating an answered call: in the database when it answers, from the runner's picture
when it does not.

A person who answers must reach a free agent within the abandon limit (2 s), database or
not. The connect is first tried as the usual compare-and-set on the agent row, for at most
``SEAT_WRITE_S``; if the database is out of reach (or that slow), the call is seated
anyway with the agent the runner's own picture shows free (``AgentView.pick``), and the
connect is written later (``Seats.seat_later``: retried until the database answers, like
the calls' records; the call's record waits for it, so it is written once, in order).
Until that write lands the agent is *pinned* in the picture: a reload from the table
(which still says ``available``) cannot offer them another call.

Limit: an agent who works several campaigns run by different processes could, during an
outage, be seated by two of them; the later write finds the agent taken and records the
connect on the attempt only (logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from dialer import metrics
from dialer.clock import Clock
from dialer.db import OUTAGE_ERRORS
from dialer.engine.agentview import AgentView
from dialer.engine.livecall import LiveCall
from dialer.engine.seats import Seats
from dialer.timer import Timer

log = logging.getLogger(__name__)
SEAT_WRITE_S = 1.0  # call-world seconds the compare-and-set may take before seating anyway


async def seat(
    call: LiveCall,
    agent_id: int,
    *,
    seats: Seats,
    view: AgentView,
    timer: Timer,
    clock: Clock,
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
    campaign_id: int,
) -> bool:
    """Give ``call`` to ``agent_id``; False if the database says the agent was taken."""
    t = timer.now()
    ring = (call.answered_t or t) - call.dialed_t
    answered_at = call.answered_at or clock.now()
    wait = call.waited(t)
    try:
        async with asyncio.timeout(SEAT_WRITE_S / timer.speed):
            return await seats.connect(
                agent_id=agent_id,
                attempt_id=call.attempt_id,
                answered_at=answered_at,
                ring_s=ring,
                wait_s=wait,
                reserved=call.reserved_agent is not None,
            )
    except (*OUTAGE_ERRORS, TimeoutError) as exc:
        if agent_id not in view.agents:
            return False
        log.warning(
            "database away (%r): call seated from the runner's picture, connect written later",
            exc,
            extra={"campaign_id": campaign_id, "call_id": call.call_id},
        )
    view.pin(agent_id)
    task = spawn(
        seats.seat_later(
            agent_id=agent_id,
            attempt_id=call.attempt_id,
            connected_at=clock.now(),
            answered_at=answered_at,
            ring_s=ring,
            wait_s=wait,
        )
    )
    task.add_done_callback(lambda _: view.unpin(agent_id))
    call.pending = task  # the call's record is written after this connect
    metrics.SEATS_WITHOUT_DATABASE.labels(str(campaign_id)).inc()
    return True


async def seated(call: LiveCall) -> None:
    """Wait for a connect that ``seat`` queued (nothing to wait for otherwise)."""
    pending = call.pending
    if pending is not None and pending is not asyncio.current_task():
        await asyncio.wait([pending])
