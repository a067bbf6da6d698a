"""The campaign scheduler: starts, pauses and completes campaigns at their scheduled times.

An APScheduler ``AsyncIOScheduler`` owned by ``dialer serve``. Only one process schedules
at a time: the holder of the ``scheduler`` lease. Jobs are not persisted; the leader
rebuilds them from the campaigns table (so they survive restarts) and reconciles every
campaign on a periodic tick, which also catches boundaries missed while no process ran.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from dialer import leases, metrics
from dialer.campaigns import retention, store
from dialer.campaigns.timetable import desired_action
from dialer.clock import Clock
from dialer.errors import DialerError
from dialer.loops import Heartbeat
from dialer.privacy import retention as privacy_retention
from dialer.recordings import RecordingStore

log = logging.getLogger(__name__)

LEASE = "scheduler"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SCHEDULED = """
SELECT id, state, state_reason, starts_at, ends_at, shift, updated_at
FROM campaigns
WHERE deleted_at IS NULL
  AND (starts_at IS NOT NULL OR ends_at IS NOT NULL OR shift IS NOT NULL)
  AND state IN ('draft', 'running', 'paused')
"""


class CampaignScheduler:
    """Leader-elected scheduler of campaign state changes."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        *,
        instance_id: str,
        lease_ttl_s: float = 15.0,
        tick_s: float = 10.0,
        recordings: RecordingStore | None = None,
    ) -> None:
        self.pool = pool
        self.recordings = recordings
        self._swept_at: datetime | None = None
        self._privacy_at: datetime | None = None
        self.clock = clock
        self.instance_id = instance_id
        self.lease_ttl = timedelta(seconds=lease_ttl_s)
        self.tick_s = tick_s
        self.leader = False
        self._versions: dict[int, Any] = {}
        self._aps = AsyncIOScheduler(timezone=UTC)
        self.heartbeat = Heartbeat("scheduler", clock.monotonic, stall_after_s=3 * tick_s + 30)

    def start(self) -> None:
        self._aps.start()
        self._aps.add_job(
            self.tick,
            "interval",
            seconds=self.tick_s,
            id="tick",
            next_run_time=None,
            max_instances=1,
            coalesce=True,
        )
        self._aps.modify_job("tick", next_run_time=self.clock.now())

    async def stop(self) -> None:
        self.heartbeat.stopped = True
        if self._aps.running:
            self._aps.shutdown(wait=False)
        if self.leader:
            await leases.release(self.pool, LEASE, self.instance_id)
            self._set_leader(False)

    def _set_leader(self, leader: bool) -> None:
        if leader != self.leader:
            log.info("scheduler leadership " + ("taken" if leader else "lost"))
        self.leader = leader
        metrics.SCHEDULER_LEADER.set(1 if leader else 0)

    async def tick(self) -> None:
        """Renew leadership; as leader, rebuild changed jobs and reconcile every campaign."""
        now = self.clock.now()
        try:
            leader = await leases.acquire(
                self.pool, LEASE, self.instance_id, now=now, ttl=self.lease_ttl
            )
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("scheduler cannot reach the database", extra={"error": str(exc)})
            leader = False
        if not leader:
            if self.leader:
                self._drop_campaign_jobs()
            self._set_leader(False)
            self.heartbeat.beat()
            return
        self._set_leader(True)
        rows = await self.pool.fetch(_SCHEDULED)
        seen = set()
        for row in rows:
            seen.add(row["id"])
            try:
                if self._versions.get(row["id"]) != row["updated_at"]:
                    self._schedule(dict(row))
                await self.apply(row["id"], dict(row))
            except (OSError, asyncpg.PostgresError):
                raise
            except Exception as exc:  # one campaign's timetable must not stop the others
                self.heartbeat.failed(exc)
                log.exception("campaign not scheduled", extra={"campaign_id": row["id"]})
        for gone in set(self._versions) - seen:
            self._remove_jobs(gone)
        await self._sweep_recordings(now)
        await self.sweep_retention(now)
        self.heartbeat.beat()

    async def _sweep_recordings(self, now: datetime) -> None:
        """Recording retention (``campaigns.retention``), every few minutes."""
        if self.recordings is None:
            return
        if self._swept_at is not None and now - self._swept_at < retention.SWEEP_EVERY:
            return
        self._swept_at = now
        try:
            deleted = await retention.sweep(self.pool, self.recordings, now=now)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("recording retention sweep failed", extra={"error": str(exc)})
            return
        if deleted:
            log.info("deleted expired recordings", extra={"count": deleted})

    async def sweep_retention(self, now: datetime) -> int:
        """Lead retention (``privacy.retention``): once a day, and again on the next tick
        while a batch came back full. How many leads were erased."""
        if self._privacy_at is not None and now - self._privacy_at < privacy_retention.SWEEP_EVERY:
            return 0
        try:
            erased = await privacy_retention.sweep(self.pool, self.recordings, now=now)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("lead retention sweep failed: %s", exc)
            return 0
        if erased < privacy_retention.BATCH:
            self._privacy_at = now
        if erased:
            log.info("erased leads past their client's retention", extra={"count": erased})
        return erased

    def _drop_campaign_jobs(self) -> None:
        for campaign_id in list(self._versions):
            self._remove_jobs(campaign_id)

    def _remove_jobs(self, campaign_id: int) -> None:
        prefix = f"c{campaign_id}:"
        for job in self._aps.get_jobs():
            if job.id.startswith(prefix):
                job.remove()
        self._versions.pop(campaign_id, None)

    def _schedule(self, campaign: dict[str, Any]) -> None:
        """(Re)build the boundary jobs of one campaign."""
        cid = campaign["id"]
        self._remove_jobs(cid)
        self._versions[cid] = campaign["updated_at"]
        now = self.clock.now()
        for key in ("starts_at", "ends_at"):
            at = campaign.get(key)
            if at is not None and at > now:
                self._aps.add_job(
                    self.apply, DateTrigger(run_date=at), args=[cid], id=f"c{cid}:{key}"
                )
        shift = campaign.get("shift")
        if not shift:
            return
        for day, intervals in shift["windows"].items():
            for n, interval in enumerate(intervals):
                for edge, clock_time in zip(("open", "close"), interval, strict=True):
                    hour, minute = (int(p) for p in clock_time.split(":")[:2])
                    if hour == 24:  # end of day: the next day's 00:00 (or the close tick)
                        hour, minute = 23, 59
                    trigger = CronTrigger(
                        day_of_week=day, hour=hour, minute=minute, timezone=shift["timezone"]
                    )
                    self._aps.add_job(
                        self.apply, trigger, args=[cid], id=f"c{cid}:{day}:{n}:{edge}"
                    )

    async def apply(self, campaign_id: int, campaign: dict[str, Any] | None = None) -> str | None:
        """Take the action the timetable asks of one campaign now; return it (or None)."""
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            if campaign is None:
                try:
                    campaign = await store.get(conn, campaign_id, None)
                except DialerError:
                    return None
            wanted = desired_action(campaign, now)
            if wanted is None:
                return None
            action, expect = wanted
            try:
                _, step = await store.transition(
                    conn,
                    campaign_id,
                    action,
                    scope=None,
                    now=now,
                    reason="schedule",
                    expect=expect,
                )
            except DialerError as exc:
                log.warning(
                    "scheduled %s failed: %s", action, exc, extra={"campaign_id": campaign_id}
                )
                return None
        if step.changes:
            log.info("campaign %s by schedule", step.target, extra={"campaign_id": campaign_id})
            return action
        return None
