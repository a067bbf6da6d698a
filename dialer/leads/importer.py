"""Running one import: the whole file in one transaction, progress visible from outside.

    read (thread) → parse (worker processes) → staging COPY → INSERT … ON CONFLICT → commit

The import holds one connection and one transaction from its first row to its commit, so a
crash, a kill, a file that turns bad half-way or a database error leaves the campaign
exactly as it was. Two advisory locks make it safe to run many ``dialer serve`` processes:
(IMPORT_LOCK, import id) is held by whoever runs an import (a process that finds it free
while the import says "running" knows its runner died), and (CAMPAIGN_LOCK, campaign id)
lets one import at a time write into a campaign.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from dialer import metrics
from dialer.campaigns import store as campaigns
from dialer.clock import Clock
from dialer.dnc.sink import DncSink
from dialer.errors import DialerError, UsageError
from dialer.leads import imports
from dialer.leads.columns import map_columns
from dialer.leads.csvfile import inspect_file
from dialer.leads.outcome import Sink, Tally
from dialer.leads.parallel import ParsePool
from dialer.leads.pipeline import parsed_chunks
from dialer.leads.rows import DNC, LEADS, RowSpec
from dialer.leads.sink import LeadSink
from dialer.outbox import enqueue
from dialer.sql import queries

log = logging.getLogger(__name__)
_Q = queries("dialer.leads")

IMPORT_LOCK = 0x494D  # "IM"
CAMPAIGN_LOCK = 0x4C44  # "LD"
PROGRESS_EVERY_S = 1.0
PROGRESS_EVERY_CHUNKS = 25


def lock_key(ident: int) -> int:
    """An id as the int4 second key of a two-key advisory lock."""
    return ident % 2_147_483_648


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a running import is (given to the CLI's progress line)."""

    import_id: int
    bytes_read: int
    bytes_total: int
    rows: int
    accepted: int
    rejected: int
    seconds: float
    parse_cpu_s: float = 0.0

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.seconds if self.seconds > 0 and self.rows else None

    @property
    def eta_s(self) -> float | None:
        if not self.bytes_read or self.seconds <= 0 or self.bytes_total <= self.bytes_read:
            return None
        return self.seconds * (self.bytes_total - self.bytes_read) / self.bytes_read


ProgressFn = Callable[[Progress], None]


class ImportFailed(UsageError):
    """The file turned out unusable half-way (binary data, a broken row): the import fails
    and nothing of it lands; like any unusable input, the CLI exits 2."""


class _Skip(Exception):
    """Another process ran (or is running) this import already."""


class Importer:
    """Runs imports against a pool, parsing on a ``ParsePool``; shared by serve and CLI."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        parse_pool: ParsePool,
        clock: Clock,
        *,
        instance_id: str,
        on_progress: ProgressFn | None = None,
    ) -> None:
        self.pool = pool
        self.parse_pool = parse_pool
        self.clock = clock
        self.instance_id = instance_id
        self.on_progress = on_progress
        self.last_error: BaseException | None = None  # why the last run failed, if it did

    async def run(self, import_id: int) -> dict[str, Any]:
        """Run a queued import to its end; return its record (completed, or failed)."""
        job = await imports.get(self.pool, import_id, None)
        started = self.clock.monotonic()
        self.last_error = None
        try:
            async with self.pool.acquire() as conn:
                row = await self._run(conn, import_id, started)
        except _Skip:
            return await imports.get(self.pool, import_id, None)
        except BaseException as exc:
            self.last_error = exc
            await self._fail(import_id, exc, started)
            _discard_upload(job)
            if not isinstance(exc, Exception):
                raise  # cancelled (shutdown) or interrupted: recorded, now let it through
            return await imports.get(self.pool, import_id, None)
        _discard_upload(job)
        metrics.IMPORTS.labels("completed").inc()
        metrics.IMPORT_DURATION.observe(self.clock.monotonic() - started)
        return row

    async def _fail(self, import_id: int, exc: BaseException, started: float) -> None:
        message = _failure(exc)
        if isinstance(exc, Exception) and message.startswith("internal error"):
            log.error("import failed", exc_info=exc, extra={"import_id": import_id})
        else:
            log.warning("import failed: %s", message, extra={"import_id": import_id})
        await imports.mark_failed(self.pool, import_id, message, self.clock.now())
        metrics.IMPORTS.labels("failed").inc()
        metrics.IMPORT_DURATION.observe(self.clock.monotonic() - started)

    async def _lock(self, conn: asyncpg.Connection, import_id: int) -> dict[str, Any]:
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", IMPORT_LOCK, lock_key(import_id))
        job = await imports.get(conn, import_id, None)
        if job["state"] != "queued":
            raise _Skip
        if job["kind"] == LEADS:
            key = lock_key(job["campaign_id"])
            free = await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock($1, $2)", CAMPAIGN_LOCK, key
            )
            if not free:
                note = "waiting for another import into this campaign to finish"
                await imports.mark_waiting(self.pool, import_id, note, self.clock.now())
                await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", CAMPAIGN_LOCK, key)
            await campaigns.get(conn, job["campaign_id"], None)  # not deleted meanwhile
        return job

    async def _run(
        self, conn: asyncpg.Connection, import_id: int, started: float
    ) -> dict[str, Any]:
        async with conn.transaction():
            job = await self._lock(conn, import_id)
            now = self.clock.now()
            await imports.mark_running(self.pool, import_id, self.instance_id, now)
            path = Path(job["path"])
            layout = await asyncio.to_thread(inspect_file, path)
            options = job["options"]
            columns = map_columns(
                layout.header,
                layout.sample,
                has_header=layout.has_header,
                phone_column=options.get("phone_column"),
                alt_phone_columns=options.get("alt_phone_columns") or (),
                numbers_only=job["kind"] == DNC,
            )
            spec = RowSpec(
                job["kind"],
                columns,
                layout.delimiter,
                layout.transport,
                options.get("default_region"),
            )
            sink: Sink = LeadSink(job, now=now) if job["kind"] == LEADS else DncSink(job, now=now)
            await sink.begin(conn)
            tally = Tally()
            await self._load(conn, job, path, layout, spec, sink, tally, started)
            extra = await sink.finish(conn, tally)
            row = dict(
                await conn.fetchrow(
                    _Q["complete_import"],
                    import_id,
                    extra.get("list_id"),
                    layout.size,
                    tally.rows,
                    tally.accepted,
                    tally.dnc,
                    tally.rejected_total,
                    dict(tally.rejected),
                    dict(tally.warnings),
                    self.clock.now(),
                )
            )
            if job["client_id"] is not None:
                await enqueue(
                    conn,
                    "import.completed",
                    client_id=job["client_id"],
                    campaign_id=job["campaign_id"],
                    now=self.clock.now(),
                    data={
                        "import_id": import_id,
                        "kind": job["kind"],
                        "name": job["name"],
                        **extra,
                        **tally.summary(),
                    },
                )
        tally.count_metrics()
        return row

    async def _load(
        self,
        conn: asyncpg.Connection,
        job: dict[str, Any],
        path: Path,
        layout: Any,
        spec: RowSpec,
        sink: Sink,
        tally: Tally,
        started: float,
    ) -> None:
        last_write = self.clock.monotonic()
        since_write = 0
        async for raw, chunk in parsed_chunks(path, layout, spec, self.parse_pool):
            if chunk.error:
                raise ImportFailed(chunk.error)
            await sink.write(conn, chunk, tally)
            tally.bytes_read = raw.offset
            since_write += 1
            progress = Progress(
                job["id"],
                raw.offset,
                layout.size,
                tally.rows,
                tally.accepted,
                tally.rejected_total,
                self.clock.monotonic() - started,
                tally.parse_cpu_s,
            )
            if self.on_progress is not None:
                self.on_progress(progress)
            now = self.clock.monotonic()
            if now - last_write >= PROGRESS_EVERY_S or since_write >= PROGRESS_EVERY_CHUNKS:
                await self._write_progress(job["id"], tally)
                last_write, since_write = now, 0

    async def _write_progress(self, import_id: int, tally: Tally) -> None:
        await self.pool.execute(
            _Q["write_progress"],
            import_id,
            tally.bytes_read,
            tally.rows,
            tally.accepted,
            tally.dnc,
            tally.rejected_total,
            dict(tally.rejected),
            dict(tally.warnings),
            self.clock.now(),
        )


def _discard_upload(job: dict[str, Any]) -> None:
    """Remove an uploaded file once its import is over (never a CLI user's own file)."""
    if job["source"] == "upload" and job.get("path"):
        Path(job["path"]).unlink(missing_ok=True)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, UsageError):
        return exc.message
    if isinstance(exc, DialerError):
        return str(exc)
    if isinstance(exc, asyncpg.PostgresError):
        return f"database error: {exc}"
    if isinstance(exc, BaseException) and not isinstance(exc, Exception):
        return "interrupted: the process running the import stopped; upload the file again"
    return f"internal error ({type(exc).__name__}): see the service log"
