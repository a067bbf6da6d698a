"""Delivery workers: fan committed outbox events out to subscriptions, then send each
delivery signed, retrying on the schedule of ``retry.py``.

One ``DeliveryWorker`` runs in every ``dialer serve`` process; any number of them share
the tables safely. Dispatch (fan-out) runs in one process at a time (an advisory lock),
so the deliveries of a lead are created in outbox order. Sends are claimed with
``FOR UPDATE SKIP LOCKED`` and a lease: never two workers on one delivery at once, and a
claim of a process that died becomes due again when its lease ends. A delivery waits while
an earlier event of the same lead is pending for the same subscription.

The worker holds no database connection while it waits on a receiver, caps concurrent
sends per subscription and in all, and runs on its own tasks: a slow or dead endpoint
delays only its own deliveries, never the dialing engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import asyncpg

from dialer import metrics
from dialer.clock import Clock
from dialer.db import DB_ERRORS
from dialer.loops import Heartbeat
from dialer.outbox import OPT_IN_TYPES, encode, envelope
from dialer.secrets import SecretBox, SecretError
from dialer.sql import queries
from dialer.webhooks.destinations import DEFAULT, BlockedNetworks
from dialer.webhooks.retry import Decision, Outcome, RetryPolicy, decide
from dialer.webhooks.sender import headers_for, post

log = logging.getLogger(__name__)
_Q = queries("dialer.webhooks")
_RESULT_LABEL = {"delivered": "delivered", "retry": "retry", "failed": "failed_4xx", "dead": "dead"}


@dataclass(frozen=True)
class Job:
    """One claimed delivery: everything needed to send it and record the result."""

    delivery_id: int
    subscription_id: int
    attempts: int  # including this one; with delivery_id it fences the result
    started_at: datetime
    event_id: str
    event_type: str
    client_id: int
    payload: dict[str, Any]
    event_created_at: datetime
    url: str
    secret_ciphertext: bytes
    previous_secret_ciphertext: bytes | None = None  # a rotation's grace period: sign twice

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Job:
        return cls(
            delivery_id=row["id"],
            subscription_id=row["subscription_id"],
            attempts=row["attempts"],
            started_at=row["started_at"],
            event_id=str(row["event_id"]),
            event_type=row["type"],
            client_id=row["client_id"],
            payload=row["payload"],
            event_created_at=row["event_created_at"],
            url=row["url"],
            secret_ciphertext=bytes(row["secret_ciphertext"]),
            previous_secret_ciphertext=(
                bytes(row["previous_secret_ciphertext"])
                if row["previous_secret_ciphertext"] is not None
                else None
            ),
        )


class DeliveryWorker:
    """Fans out and delivers webhook events; ``run_once`` for one step, ``start`` to run."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        box: SecretBox,
        *,
        session: aiohttp.ClientSession,
        instance_id: str,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
        blocked: BlockedNetworks = DEFAULT,
        per_subscription: int = 8,
        max_in_flight: int = 64,
        batch: int = 500,
        lease_s: float = 60.0,
        poll_interval_s: float = 0.1,
        housekeeping_interval_s: float = 15.0,
        retention: timedelta = timedelta(days=30),
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.box = box
        self.session = session
        self.instance_id = instance_id
        self.rng = rng or random.Random()
        self.policy = policy or RetryPolicy()
        self.blocked = blocked  # IP-literal URLs; names are checked by the session's resolver
        self.per_subscription = per_subscription
        self.max_in_flight = max_in_flight
        self.batch = batch
        self.lease = timedelta(seconds=lease_s)
        self.poll_interval_s = poll_interval_s
        self.housekeeping_interval_s = housekeeping_interval_s
        self.retention = retention
        self.in_flight: Counter[int] = Counter()
        self._secrets: dict[int, tuple[tuple[bytes, bytes | None], tuple[str, str | None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._last_housekeeping: float | None = None
        # A pass waits at most 8 polls after an error; a slow receiver never holds it up.
        self.heartbeat = Heartbeat(
            "webhooks", clock.monotonic, stall_after_s=16 * poll_interval_s + 60
        )

    # --- one step ---------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _bookkeeping(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction for delivery state, committed without waiting for the disk flush.

        Safe because delivery state only decides whether to send: a PostgreSQL crash can
        lose the last moments of it, and the consequence is an event sent again, which
        receivers drop by its id. The events themselves are written by their producers'
        ordinary transactions. This keeps commits (an fsync each) off the hot path.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit TO off")
            yield conn

    async def dispatch(self) -> int:
        """Fan one batch of new events out into deliveries; return how many events."""
        async with self._bookkeeping() as conn:
            if not await conn.fetchval(_Q["dispatch_lock"]):
                return 0  # another process is dispatching right now
            row = await conn.fetchrow(
                _Q["dispatch"], self.clock.now(), self.batch, sorted(OPT_IN_TYPES)
            )
        return int(row["events"])

    async def claim(self) -> list[Job]:
        """Claim due deliveries up to the free sending slots; they count as in flight."""
        room = self.max_in_flight - sum(self.in_flight.values())
        if room <= 0:
            return []
        busy = [(sub, n) for sub, n in self.in_flight.items() if n > 0]
        now = self.clock.now()
        async with self._bookkeeping() as conn:
            rows = await conn.fetch(
                _Q["claim"],
                now,
                now + self.lease,
                self.instance_id,
                self.per_subscription,
                [sub for sub, _ in busy],
                [n for _, n in busy],
                room,
            )
        jobs = [Job.from_row(r) for r in rows]
        for job in jobs:
            self.in_flight[job.subscription_id] += 1
        return jobs

    async def deliver(self, job: Job) -> str:
        """Send one claimed delivery and record the result; return what happened."""
        try:
            secret, previous = self._secret(job)
        except SecretError as exc:
            log.error(str(exc), extra={"subscription_id": job.subscription_id})
            await self._release(job, delay_s=60.0, error=str(exc))
            return "released"
        body = encode(
            envelope(
                event_id=job.event_id,
                event_type=job.event_type,
                created_at=job.event_created_at,
                client_id=job.client_id,
                data=job.payload,
            )
        )
        headers = headers_for(
            secret=secret,
            body=body,
            event_id=job.event_id,
            event_type=job.event_type,
            timestamp=int(self.clock.now().timestamp()),
            delivery_id=job.delivery_id,
            previous_secret=previous,
        )
        outcome = await post(self.session, job.url, body, headers, blocked=self.blocked)
        now = self.clock.now()
        decision = decide(
            outcome,
            attempts=job.attempts,
            started_at=job.started_at,
            now=now,
            rng=self.rng,
            policy=self.policy,
        )
        await self._record(job, outcome, decision, now)
        return decision.action

    async def run_once(self) -> int:
        """Dispatch every new event, claim what is due and send it; wait for those sends.

        Returns the number of deliveries attempted. Tests drive the worker with this.
        """
        while await self.dispatch() >= self.batch:
            pass
        jobs = await self.claim()
        await asyncio.gather(*(self._run_job(job) for job in jobs))
        await self.housekeeping()
        return len(jobs)

    # --- recording --------------------------------------------------------------------
    def _secret(self, job: Job) -> tuple[str, str | None]:
        """(current secret, previous one while a rotation's grace period lasts)."""
        stored = (job.secret_ciphertext, job.previous_secret_ciphertext)
        cached = self._secrets.get(job.subscription_id)
        if cached is not None and cached[0] == stored:
            return cached[1]
        secret = self.box.decrypt(job.secret_ciphertext)
        previous = None if stored[1] is None else self.box.decrypt(stored[1])
        self._secrets[job.subscription_id] = (stored, (secret, previous))
        return secret, previous

    async def _record(self, job: Job, outcome: Outcome, decision: Decision, now: datetime) -> None:
        fence = (job.delivery_id, job.attempts)
        async with self._bookkeeping() as conn:
            if decision.action == "delivered":
                status = await conn.execute(_Q["record_delivered"], *fence, now, outcome.status)
            elif decision.action == "retry":
                moved = await conn.fetchval(
                    _Q["record_retry"],
                    *fence,
                    decision.next_attempt_at,
                    outcome.status,
                    decision.reason,
                )
                status = f"UPDATE {moved}"
            else:
                status = await conn.execute(
                    _Q["record_dead"], *fence, now, outcome.status, decision.reason
                )
        if decision.action == "delivered":
            lag = (now - job.event_created_at).total_seconds()
            metrics.WEBHOOK_DELIVERY_LATENCY.observe(max(lag, 0.0))
        metrics.WEBHOOK_DELIVERIES.labels(_RESULT_LABEL[decision.action]).inc()
        context = {
            "delivery_id": job.delivery_id,
            "subscription_id": job.subscription_id,
            "event_type": job.event_type,
            "attempt": job.attempts,
            "status": outcome.status,
        }
        if status.endswith(" 0"):
            log.warning("delivery result ignored: its claim had expired", extra=context)
        elif decision.action in ("failed", "dead"):
            log.warning("webhook delivery dead-lettered: %s", decision.reason, extra=context)
        elif decision.action == "retry":
            log.info("webhook delivery will be retried: %s", decision.reason, extra=context)

    async def _release(self, job: Job, *, delay_s: float = 0.0, error: str | None = None) -> None:
        at = self.clock.now() + timedelta(seconds=delay_s)
        async with self._bookkeeping() as conn:
            await conn.execute(_Q["release"], job.delivery_id, job.attempts, at, error)

    async def _run_job(self, job: Job) -> None:
        try:
            await self.deliver(job)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(job))
            raise
        except DB_ERRORS as exc:
            # The claim's lease runs out and another attempt follows: nothing is lost.
            log.warning(
                "could not record a webhook delivery result",
                extra={"delivery_id": job.delivery_id, "error": str(exc)},
            )
        except Exception:
            log.exception("webhook delivery failed", extra={"delivery_id": job.delivery_id})
        finally:
            self.in_flight[job.subscription_id] -= 1
            if self.in_flight[job.subscription_id] <= 0:
                del self.in_flight[job.subscription_id]
            self._wake.set()

    # --- housekeeping -----------------------------------------------------------------
    async def housekeeping(self, *, force: bool = False) -> None:
        """Refresh the backlog gauges and drop finished deliveries past retention."""
        mono = self.clock.monotonic()
        last = self._last_housekeeping
        if not force and last is not None and mono - last < self.housekeeping_interval_s:
            return
        self._last_housekeeping = mono
        now = self.clock.now()
        row = await self.pool.fetchrow(_Q["backlog"])
        metrics.WEBHOOK_OUTBOX_PENDING.set(row["undispatched"])
        metrics.WEBHOOK_DELIVERIES_PENDING.set(row["pending"])
        oldest = [t for t in (row["oldest_undispatched"], row["oldest_pending"]) if t is not None]
        age = (now - min(oldest)).total_seconds() if oldest else 0.0
        metrics.WEBHOOK_OLDEST_PENDING.set(max(age, 0.0))
        cutoff = now - self.retention
        await self.pool.execute(_Q["purge_deliveries"], cutoff, 10_000)
        await self.pool.execute(_Q["purge_outbox"], cutoff, 10_000)

    # --- running ----------------------------------------------------------------------
    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="webhook-deliveries")
        self.heartbeat.watch(self._loop_task)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop claiming; let sends in flight finish for up to ``timeout_s``, then release."""
        self.heartbeat.stopped = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)

    async def _cycle(self) -> bool:
        fanned = await self.dispatch()
        jobs = await self.claim()
        for job in jobs:
            task = asyncio.create_task(self._run_job(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await self.housekeeping()
        return fanned >= self.batch or bool(jobs)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                busy = await self._cycle()
            except DB_ERRORS as exc:
                log.warning("webhook worker cannot reach the database", extra={"error": str(exc)})
                busy = False
                await asyncio.sleep(self.poll_interval_s * 8)
            except Exception as exc:
                self.heartbeat.failed(exc)
                log.exception("webhook worker step failed")
                busy = False
                await asyncio.sleep(self.poll_interval_s * 8)
            self.heartbeat.beat()
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
