"""The recorder: writes a runner's ended calls, in batches, without losing one.

A call that ends is queued here; one writer task takes everything queued and writes it in
a single transaction (``closing.close_calls``), so under load many calls share one commit
while a quiet campaign still writes each call at once. A call's own earlier write (the
connect) finishes first. Database errors are retried with back-off; a batch that keeps
failing is retried call by call, and a call that still cannot be written is left open for
the next holder of the campaign's lease to close as ``unknown`` (never silently dropped).
While the database is out of reach (a restart, an outage) nothing is given up: the writes
wait for it, however long, until the runner stops (then for its shutdown timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from dialer import metrics
from dialer.db import DB_ERRORS, OUTAGE_ERRORS
from dialer.engine import closing
from dialer.engine.model import CampaignConfig
from dialer.engine.recordkeep import RecordingKeeper

log = logging.getLogger(__name__)
MAX_BATCH = 200
RETRIES = 6


@dataclass(slots=True)
class Pending:
    record: closing.CallRecord
    before: asyncio.Task[Any] | None  # the call's connect, which must land first
    after: Callable[[closing.CallRecord, bool], Awaitable[None]]  # then (written or not)


class Recorder:
    """Batches ended calls of one campaign into transactions."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        campaign: Callable[[], CampaignConfig],
        *,
        keeper: RecordingKeeper | None = None,
        runner_id: str | None = None,
    ) -> None:
        self.pool = pool
        self.runner_id = runner_id
        self.keeper = keeper
        self.campaign = campaign
        self.queue: list[Pending] = []
        self.written = 0
        self.failures = 0
        self.batches = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recorder")

    def add(
        self,
        record: closing.CallRecord,
        *,
        before: asyncio.Task[Any] | None,
        after: Callable[[closing.CallRecord, bool], Awaitable[None]],
    ) -> None:
        self.queue.append(Pending(record, before, after))
        self._idle.clear()
        self._wake.set()

    async def flush(self, timeout: float) -> None:
        """Wait until everything queued is written (or ``timeout`` passes)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()

    async def stop(self, timeout: float) -> None:
        self.stopping = True
        await self.flush(timeout)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.queue:
                batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
                try:
                    await self._write(batch)
                except Exception:  # a bug in one batch must not stop the writer
                    metrics.LOOP_ERRORS.labels("runner").inc()
                    ids = [p.record.attempt_id for p in batch[:5]]
                    log.exception("attempts %s not written", ids)
            self._idle.set()

    async def _write(self, batch: list[Pending]) -> None:
        waits = [p.before for p in batch if p.before is not None and not p.before.done()]
        if waits:
            await asyncio.wait(waits)
        if self.keeper is not None:
            records = await self.keeper.attach([p.record for p in batch])
            for pending, record in zip(batch, records, strict=True):
                pending.record = record
        if await self._attempt([p.record for p in batch]):
            done = [True] * len(batch)
        else:  # find the culprit; write the others
            done = [await self._attempt([p.record]) for p in batch] if len(batch) > 1 else [False]
        for pending, written in zip(batch, done, strict=True):
            try:
                await pending.after(pending.record, written)
            except Exception:
                log.exception("after writing attempt %s", pending.record.attempt_id)

    async def _attempt(self, calls: list[closing.CallRecord]) -> bool:
        async def close(conn: asyncpg.Connection) -> None:
            await closing.close_calls(conn, self.campaign(), calls, runner=self.runner_id)

        ids = [c.attempt_id for c in calls[:5]]
        if not await self.retried(f"attempts {ids}", close):
            return False
        self.written += len(calls)
        self.batches += 1
        return True

    async def retried(
        self, what: str, write: Callable[[asyncpg.Connection], Awaitable[Any]]
    ) -> bool:
        """Run ``write`` on a connection until it succeeds: with back-off, however long the
        database is out of reach (until the runner stops), a few times for other errors.
        Also used for a seat given while the database was away (``DbSeats.seat_later``)."""
        delay = 0.1
        attempt = 0
        while True:
            try:
                async with self.pool.acquire() as conn:
                    await write(conn)
                return True
            except DB_ERRORS as exc:
                self.failures += 1
                log.warning("%s not written yet (%s)", what, exc)
                outage = isinstance(exc, OUTAGE_ERRORS) and not self.stopping
                attempt += 1
                if attempt >= RETRIES and not outage:
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
