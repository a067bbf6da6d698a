"""Supervisor monitoring: a manager listens to, whispers in or barges into a live call.

``Monitors`` belongs to the engine of a process and drives its gateway's ``Monitoring``
capability (Asterisk snoop channels, FreeSWITCH ``eavesdrop``, the simulator). A session
rings the supervisor's phone (``endpoint``) into a call that is connected to an agent:

* ``listen``: the supervisor hears callee and agent; nobody hears the supervisor and the
  agent's desktop is told nothing;
* ``whisper``: only the agent hears the supervisor (coaching);
* ``barge``: everybody hears everybody.

A session ends when it is stopped, when the supervisor hangs up, or with the call (the
switch drops the supervisor's leg). Monitoring changes neither pacing nor the call's
record: ``call_monitors`` (migration 0020) is the note of who monitored which call, in
which modes, from when to when; every start, change and stop is also in the audit log.
The call may be held by a runner of another process: the monitor is set up on the switch
from this one (the switch knows the call by its id), and this process keeps the session.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from dialer import audit, metrics
from dialer.auth.roles import Principal
from dialer.clock import Clock
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.gateway import (
    MONITOR_MODES,
    CallGone,
    Gateway,
    GatewayError,
    MonitorEnded,
    Monitoring,
    MonitorMode,
)
from dialer.inputs import check_text
from dialer.sql import queries

if TYPE_CHECKING:
    from dialer.engine.livecall import LiveCall
    from dialer.engine.runner import CampaignRunner

log = logging.getLogger(__name__)
_Q = queries("dialer.engine", "monitor.sql")
# A phone the switch can dial: PJSIP/1001, user/1001, sofia/internal/1001@pbx, or a bare
# extension (the switch's agent template applies). No spaces, quotes, braces or commas:
# nothing that could smuggle switch syntax into a dial string.
ENDPOINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./@:+-]{0,199}$")


def parse_mode(value: Any) -> MonitorMode:
    if value not in MONITOR_MODES:
        raise ValidationError("mode must be one of listen, whisper, barge", field="mode")
    return value


def parse_endpoint(value: Any) -> str:
    if not isinstance(value, str) or not ENDPOINT.match(check_text(value, "endpoint").strip()):
        raise ValidationError(
            "endpoint must be the supervisor's phone, e.g. PJSIP/2001 or user/2001 "
            "(letters, digits and _ . / @ : + -, at most 200 characters)",
            field="endpoint",
        )
    return value.strip()


def shape(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A monitor as the API shows it."""
    ended = row["ended_at"] is not None or row["call_ended_at"] is not None
    return {
        "id": row["id"],
        "call_id": row["attempt_id"],
        "campaign_id": row["campaign_id"],
        "agent_id": row["agent_id"],
        "mode": row["mode"],
        "modes": list(row["modes"]),
        "endpoint": row["endpoint"],
        "actor": row["actor"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"] or row["call_ended_at"],
        "end_reason": row["end_reason"] or ("call_ended" if ended else None),
        "live": not ended,
    }


class Monitors:
    """This process's monitor sessions (see the module docstring)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        gateway: Gateway,
        clock: Clock,
        *,
        instance_id: str,
        runners: dict[int, CampaignRunner],
    ) -> None:
        self.pool = pool
        self.gateway = gateway
        self.clock = clock
        self.instance_id = instance_id
        self.runners = runners
        self.ended: dict[str, str] = {}  # session → why, reported before its row existed
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def capable(self) -> bool:
        return isinstance(self.gateway, Monitoring)

    def _switch(self) -> Monitoring:
        if not isinstance(self.gateway, Monitoring):
            raise Conflict(
                f"this switch ({getattr(self.gateway, 'name', 'gateway')}) cannot monitor calls",
                field="mode",
            )
        return self.gateway

    def _local_calls(self) -> Iterator[LiveCall]:
        for runner in list(self.runners.values()):
            yield from list(runner.flow.calls.values())

    async def _live_call(self, attempt_id: int, who: Principal) -> asyncpg.Record:
        row = await self.pool.fetchrow(_Q["monitor_call"], attempt_id)
        if row is None or not who.sees_client(row["client_id"]):
            raise NotFound(f"call {attempt_id} does not exist")
        local = next((c for c in self._local_calls() if c.attempt_id == attempt_id), None)
        if local is not None:
            talking = local.state == "connected"
        else:
            talking = row["ended_at"] is None and row["connected_at"] is not None
        if not talking or not row["gateway_call_id"]:
            raise Conflict(
                f"call {attempt_id} is not live: only a call connected to an agent can be "
                "monitored",
                field="id",
            )
        return row

    async def start(
        self, attempt_id: int, body: dict[str, Any], *, who: Principal
    ) -> dict[str, Any]:
        """Ring the supervisor's phone into the call; the new monitor (201)."""
        mode = parse_mode(body.get("mode"))
        endpoint = parse_endpoint(body.get("endpoint"))
        switch = self._switch()
        call = await self._live_call(attempt_id, who)
        try:
            session = await switch.monitor(call["gateway_call_id"], endpoint, mode, self._on_end)
        except CallGone as exc:
            raise Conflict(f"call {attempt_id} is not live: it has ended", field="id") from exc
        except GatewayError as exc:
            problem = f"the switch could not monitor the call: {exc}"
            raise Conflict(problem, field="endpoint") from exc
        now = self.clock.now()
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                values = (call["campaign_id"], call["agent_id"], mode, endpoint, who.actor)
                monitor_id = await conn.fetchval(
                    _Q["insert_monitor"],
                    attempt_id,
                    *values,
                    who.user_id,
                    session,
                    self.instance_id,
                    now,
                )
                details = {"mode": mode, "endpoint": endpoint, "agent_id": call["agent_id"]}
                await self._audit(conn, who, "call.monitor", attempt_id, monitor_id, now, details)
        except BaseException:
            await self._hang_up(session)
            raise
        metrics.MONITOR_SESSIONS.labels(str(call["campaign_id"]), mode).inc()
        if session in self.ended:  # the call ended while the row was being written
            await self._close(monitor_id, self.ended.pop(session))
        return await self.get(monitor_id, who=who)

    async def get(self, monitor_id: int, *, who: Principal) -> dict[str, Any]:
        row = await self.pool.fetchrow(_Q["get_monitor"], monitor_id)
        if row is None or not who.sees_client(row["client_id"]):
            raise NotFound(f"monitor {monitor_id} does not exist")
        return shape(row)

    async def change(
        self, monitor_id: int, body: dict[str, Any], *, who: Principal
    ) -> dict[str, Any]:
        """Switch a live monitor to another mode (listen ↔ whisper ↔ barge)."""
        mode = parse_mode(body.get("mode"))
        switch = self._switch()
        row = await self._open(monitor_id, who)
        if mode != row["mode"]:
            try:
                await switch.change_mode(row["session"], mode)
            except GatewayError as exc:
                await self._close(monitor_id, "call_ended")
                raise Conflict(f"monitor {monitor_id} has ended: {exc}", field="id") from exc
            now = self.clock.now()
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(_Q["set_monitor_mode"], monitor_id, mode)
                details = {"mode": mode, "was": row["mode"]}
                await self._audit(
                    conn, who, "call.monitor_mode", row["attempt_id"], monitor_id, now, details
                )
        return await self.get(monitor_id, who=who)

    async def stop(self, monitor_id: int, *, who: Principal) -> dict[str, Any]:
        """Hang up the supervisor's phone; the call goes on."""
        row = await self._open(monitor_id, who)
        await self._hang_up(row["session"])
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_Q["end_monitor"], monitor_id, now, "stopped")
            details = {"mode": row["mode"]}
            await self._audit(
                conn, who, "call.monitor_stop", row["attempt_id"], monitor_id, now, details
            )
        return await self.get(monitor_id, who=who)

    async def _open(self, monitor_id: int, who: Principal) -> asyncpg.Record:
        row = await self.pool.fetchrow(_Q["get_monitor"], monitor_id)
        if row is None or not who.sees_client(row["client_id"]):
            raise NotFound(f"monitor {monitor_id} does not exist")
        if row["ended_at"] is not None or row["call_ended_at"] is not None:
            await self._close(monitor_id, "call_ended")
            raise Conflict(f"monitor {monitor_id} has ended", field="id")
        if row["instance"] != self.instance_id:
            raise Conflict(
                f"monitor {monitor_id} is held by dialer process {row['instance']}: "
                "change or stop it through that process",
                field="id",
            )
        return row

    async def _hang_up(self, session: str) -> None:
        if isinstance(self.gateway, Monitoring):
            try:
                await self.gateway.stop_monitor(session)
            except GatewayError as exc:
                log.warning("stopping a monitor failed: %s", exc)

    async def _close(self, monitor_id: int, reason: str) -> None:
        await self.pool.execute(_Q["end_monitor"], monitor_id, self.clock.now(), reason)

    async def _audit(
        self,
        conn: asyncpg.Connection,
        who: Principal,
        action: str,
        attempt_id: int,
        monitor_id: int,
        now: datetime,
        details: dict[str, Any],
    ) -> None:
        await audit.record(
            conn, who, action, "call", attempt_id, {"monitor_id": monitor_id, **details}, now=now
        )

    # -- the switch ends a session ---------------------------------------------------------
    def _on_end(self, event: MonitorEnded) -> None:
        self.ended[event.monitor_id] = event.reason
        task = asyncio.create_task(self._ended(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ended(self, event: MonitorEnded) -> None:
        try:
            done = await self.pool.execute(
                _Q["end_monitor_session"],
                event.monitor_id,
                self.clock.now(),
                event.reason,
                self.instance_id,
            )
        except Exception as exc:  # its call's end shows it ended anyway (``shape``)
            log.warning("could not record a monitor's end: %s", exc)
            return
        if done != "UPDATE 0":
            self.ended.pop(event.monitor_id, None)

    async def live(self, *, who: Principal, campaign_id: int | None = None) -> dict[str, Any]:
        """Calls connected to an agent now, each with its live monitors."""
        calls = await self.pool.fetch(_Q["live_calls"], campaign_id, who.client_id)
        monitors = await live_monitors(self.pool, campaign_id, who.client_id)
        by_call: dict[int, list[dict[str, Any]]] = {}
        for m in monitors:
            by_call.setdefault(m["call_id"], []).append(m)
        return {
            "monitoring": self.capable,
            "calls": [{**dict(c), "monitors": by_call.get(c["id"], [])} for c in calls],
        }


async def live_monitors(
    conn: asyncpg.Pool | asyncpg.Connection, campaign_id: int | None, client_id: int | None
) -> list[dict[str, Any]]:
    """Monitors up now (the board marks the agents they listen to)."""
    return [shape(r) for r in await conn.fetch(_Q["live_monitors"], campaign_id, client_id)]
