"""Imports inside ``dialer serve``: a queue of uploaded lists run in the background.

The HTTP handler streams an upload to ``$DIALER_DATA_DIR/uploads/``, records a queued
import and hands its id to this service, which runs up to two imports at a time (so a small
list is not stuck behind a huge one) on the process's one parse pool.

At start it settles what earlier processes left behind: an import marked running whose
runner is gone (its advisory lock is free) is marked failed ("interrupted": nothing of it
landed, thanks to its single transaction); a queued import whose upload is on this machine
is run. At shutdown a running import is rolled back and marked failed the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from pathlib import Path

import asyncpg

from dialer.clock import Clock
from dialer.leads import imports
from dialer.leads.importer import IMPORT_LOCK, Importer, lock_key
from dialer.leads.parallel import ParsePool
from dialer.loops import Heartbeat

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the process running the import stopped; nothing of it was loaded"


def uploads_dir(data_dir: Path) -> Path:
    """Where uploads wait for their import (created on first use). Only the service's
    user may list or read it: queued lists hold people's phone numbers."""
    folder = (data_dir / "uploads").resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)  # made by an older version with the default mode
    return folder


class ImportService:
    """Runs queued imports in the background of one ``dialer serve`` process."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        *,
        instance_id: str,
        uploads: Path | None = None,
        workers: int | None = None,
        concurrency: int = 2,
        phone_backend: str = "auto",
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.uploads = uploads
        self.parse_pool = ParsePool(workers, phone_backend=phone_backend)
        self.importer = Importer(pool, self.parse_pool, clock, instance_id=instance_id)
        self.concurrency = concurrency
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0
        # Its workers wait on a queue (no passes to count): only a dead worker is reported.
        self.heartbeat = Heartbeat("imports", clock.monotonic, stall_after_s=math.inf)

    async def start(self) -> None:
        await self.recover()
        self._tasks = [
            asyncio.create_task(self._work(), name=f"dialer-import-{n}")
            for n in range(self.concurrency)
        ]
        self.heartbeat.watch(*self._tasks)

    def submit(self, import_id: int) -> None:
        """Run a queued import as soon as a runner is free."""
        self._idle.clear()
        self._queue.put_nowait(import_id)

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Until every submitted import has finished (tests, graceful tooling)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def _work(self) -> None:
        while True:
            import_id = await self._queue.get()
            self._busy += 1
            try:
                await self.importer.run(import_id)
            except Exception as exc:  # the importer records failures; never let it die
                self.heartbeat.failed(exc)
                log.exception("import runner error", extra={"import_id": import_id})
            finally:
                self._busy -= 1
                if self._queue.empty() and self._busy == 0:
                    self._idle.set()

    async def recover(self) -> list[int]:
        """Settle imports left behind by processes that stopped; return those resubmitted."""
        await settle_dead_imports(self.pool, self.clock)
        resubmitted = []
        async with self.pool.acquire() as conn:
            unfinished = await imports.unfinished(conn)
            for job in unfinished:
                if job["state"] != "queued" or not await _owner_gone(conn, job["id"]):
                    continue  # running, or another live process is about to run it
                if job["path"] and Path(job["path"]).is_file():
                    self.submit(job["id"])
                    resubmitted.append(job["id"])
        if self.uploads is not None:
            keep = {str(job["path"]) for job in unfinished if job["path"]}
            await asyncio.to_thread(_sweep, self.uploads, keep, self.clock.now().timestamp())
        return resubmitted

    async def stop(self) -> None:
        self.heartbeat.stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await asyncio.to_thread(self.parse_pool.close)


async def settle_dead_imports(pool: asyncpg.Pool, clock: Clock) -> list[int]:
    """Mark failed every import that says running but whose runner has died (the CLI calls
    this before its own import; ``dialer serve`` does it, and more, at start)."""
    settled = []
    async with pool.acquire() as conn:
        for job in await imports.unfinished(conn):
            if job["state"] == "running" and await _owner_gone(conn, job["id"]):
                await imports.mark_failed(pool, job["id"], INTERRUPTED, clock.now())
                _remove(job)
                settled.append(job["id"])
    return settled


async def _owner_gone(conn: asyncpg.Connection, import_id: int) -> bool:
    """Whether nobody holds the import's lock (its runner, if any, has died)."""
    key = lock_key(import_id)
    free = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", IMPORT_LOCK, key)
    if free:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", IMPORT_LOCK, key)
    return bool(free)


def _sweep(folder: Path, keep: set[str], now: float, older_than_s: float = 86_400) -> None:
    """Remove uploads no import refers to (their process died while receiving them), once
    they are a day old (a younger one may still be arriving in another process)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        try:
            if str(path) not in keep and now - path.stat().st_mtime > older_than_s:
                path.unlink()
        except OSError:
            continue


def _remove(job: dict[str, object]) -> None:
    path = job.get("path")
    if job.get("source") == "upload" and isinstance(path, str):
        Path(path).unlink(missing_ok=True)
