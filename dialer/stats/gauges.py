"""Campaign figures that only the database knows, exported as gauges: leads by status,
leads due now, which campaigns are running or paused, and their paused agents by pause
code.

The engine's metrics describe what one process is doing; these describe the campaigns
themselves, so the dashboards can show leads remaining and the alerts can tell "running
but nobody dials it" (a lost runner lease) from "running with nothing to dial". Every
``serve`` process refreshes them every ``REFRESH_S`` seconds with two cheap indexed
queries over running and paused campaigns only; all processes export the same values
(aggregate with ``max by``). A campaign that leaves running/paused loses its series.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import asyncpg

from dialer import metrics
from dialer.campaigns.codes import DEFAULT_PAUSE_CODES
from dialer.clock import Clock
from dialer.db import DB_ERRORS
from dialer.leads.store import STATUSES
from dialer.sql import queries

log = logging.getLogger(__name__)
_Q = queries("dialer.stats")
REFRESH_S = 15.0


def _paused_by_code(
    campaigns: dict[str, str], codes: list[asyncpg.Record], paused: list[asyncpg.Record]
) -> dict[tuple[str, str], int]:
    """Paused agents by (campaign, pause code): every code of the campaign (0 when nobody
    is paused with it, so the series exist), plus any other reason an agent is paused with."""
    defined: dict[str, list[str]] = {}
    for r in codes:
        defined.setdefault(str(r["campaign_id"]), []).append(r["code"])
    default = [c.code for c in DEFAULT_PAUSE_CODES]
    counts = {(cid, code): 0 for cid in campaigns for code in defined.get(cid, default)}
    for r in paused:
        counts[(str(r["campaign_id"]), r["reason"])] = r["n"]
    return counts


class CampaignGauges:
    """Keeps ``dialer_leads``, ``dialer_leads_due`` and ``dialer_campaign_state`` current."""

    def __init__(self) -> None:
        self._exported: dict[str, str] = {}  # campaign -> state it is exported with
        self._paused: set[tuple[str, str]] = set()  # (campaign, pause code) exported

    async def refresh(self, pool: asyncpg.Pool, now: datetime) -> None:
        """Read the figures and replace the exported series (one consistent picture)."""
        async with pool.acquire() as conn:
            campaigns = await conn.fetch(_Q["active_campaigns"])
            ids = [r["id"] for r in campaigns]
            leads = await conn.fetch(_Q["active_leads"], ids) if ids else []
            due = await conn.fetch(_Q["due_leads"], ids, now) if ids else []
            paused = await conn.fetch(_Q["paused_agents"], ids) if ids else []
            code_rows = await conn.fetch(_Q["pause_code_sets"], ids) if ids else []
        states = {str(r["id"]): r["state"] for r in campaigns}
        by_status: dict[str, dict[str, int]] = {c: dict.fromkeys(STATUSES, 0) for c in states}
        for r in leads:
            by_status[str(r["campaign_id"])][r["status"]] = r["n"]
        due_now = {str(r["campaign_id"]): r["n"] for r in due}
        for cid, state in self._exported.items():
            if states.get(cid) != state:
                with contextlib.suppress(KeyError):
                    metrics.CAMPAIGN_STATE.remove(cid, state)
            if cid not in states:
                self._forget(cid)
        for cid, state in states.items():
            metrics.CAMPAIGN_STATE.labels(cid, state).set(1)
            for status, n in by_status[cid].items():
                metrics.LEADS.labels(cid, status).set(n)
            metrics.LEADS_DUE.labels(cid).set(due_now.get(cid, 0))
        self._exported = states
        self._export_paused(_paused_by_code(states, code_rows, paused))
        metrics.CAMPAIGN_FIGURES_REFRESHED.set(now.timestamp())

    def _export_paused(self, counts: dict[tuple[str, str], int]) -> None:
        """Paused agents by campaign and code; a series no longer counted is removed."""
        for gone in self._paused - counts.keys():
            with contextlib.suppress(KeyError):
                metrics.AGENTS_PAUSED.remove(*gone)
        for (cid, reason), n in counts.items():
            metrics.AGENTS_PAUSED.labels(cid, reason).set(n)
        self._paused = set(counts)

    def _forget(self, cid: str) -> None:
        with contextlib.suppress(KeyError):
            metrics.LEADS_DUE.remove(cid)
        for status in STATUSES:
            with contextlib.suppress(KeyError):
                metrics.LEADS.remove(cid, status)

    def clear(self) -> None:
        """Remove every series this exporter made (the service is stopping)."""
        for cid, state in self._exported.items():
            with contextlib.suppress(KeyError):
                metrics.CAMPAIGN_STATE.remove(cid, state)
            self._forget(cid)
        self._exported = {}
        self._export_paused({})


class GaugeRefresher:
    """Keeps the campaign gauges current: refreshed at start, then every ``REFRESH_S``;
    ``stop`` removes the series this process exported."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, *, every_s: float = REFRESH_S) -> None:
        self.pool = pool
        self.clock = clock
        self.every_s = every_s
        self.gauges = CampaignGauges()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        try:
            await self.gauges.refresh(self.pool, self.clock.now())
        except DB_ERRORS as exc:
            log.warning("campaign gauges not refreshed: %s", exc)
        except Exception:
            log.exception("campaign gauges not refreshed")

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._loop(), name="campaign-gauges")

    async def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every_s)
            if not self._stop.is_set():
                await self.refresh()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        self.gauges.clear()
