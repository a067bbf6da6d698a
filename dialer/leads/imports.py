"""Import records: create, read and list imports; progress, failure and the error report.

An import is visible to its client's tokens (and unscoped ones); a global DNC import only to
unscoped tokens. Progress is written from a connection of its own while the import's single
transaction runs, so it can be watched; the final counts land with the list.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from dialer.errors import NotFound, ValidationError
from dialer.leads.csvfile import FileLayout
from dialer.sql import queries

_Q = queries("dialer.leads")
PAGE_MAX = 500
STATES = ("queued", "running", "completed", "failed")
REPORT_COLUMNS = ("row", "reason", "value", "detail")
# Characters a spreadsheet reads as the start of a formula, and what a phone number holds.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_TEXT = re.compile(r"^[0-9\s()+\-./#*]*$")


async def create(
    conn: asyncpg.Connection,
    *,
    kind: str,
    client_id: int | None,
    campaign_id: int | None,
    name: str,
    file_name: str | None,
    source: str,
    options: dict[str, Any],
    path: Path,
    layout: FileLayout,
    created_by: str,
    now: datetime,
) -> dict[str, Any]:
    """A queued import of ``path`` (already inspected: ``layout``)."""
    row = await conn.fetchrow(
        _Q["create_import"],
        kind,
        client_id,
        campaign_id,
        name[:200],
        file_name,
        source,
        options,
        str(path),
        created_by,
        layout.encoding,
        layout.delimiter,
        layout.size,
        now,
    )
    return dict(row)


async def get(
    conn: asyncpg.Connection | asyncpg.Pool, import_id: int, scope: int | None
) -> dict[str, Any]:
    row = await conn.fetchrow(_Q["get_import"], import_id, scope)
    if row is None:
        raise NotFound(f"import {import_id} does not exist")
    return dict(row)


async def list_page(
    conn: asyncpg.Connection,
    scope: int | None,
    *,
    campaign_id: int | None = None,
    state: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    if state is not None and state not in STATES:
        raise ValidationError(f"state must be one of {', '.join(STATES)}", field="state")
    rows = await conn.fetch(
        _Q["list_imports"], scope, campaign_id, state, after, min(limit, PAGE_MAX)
    )
    return [dict(r) for r in rows]


def _seconds(row: Mapping[str, Any]) -> float | None:
    started = row.get("started_at")
    if started is None:
        return None
    end = row.get("finished_at") or row.get("updated_at")
    return max((end - started).total_seconds(), 0.0) if end else None


def present(row: Mapping[str, Any]) -> dict[str, Any]:
    """An import as the API shows it, with its rate and, while it runs, an ETA."""
    data = {k: v for k, v in row.items() if k not in ("path", "instance_id")}
    seconds = _seconds(row)
    rate = row["rows_read"] / seconds if seconds and row["rows_read"] else None
    total, done = row.get("bytes_total") or 0, row.get("bytes_read") or 0
    eta = None
    if row["state"] == "running" and seconds and done and total > done:
        eta = round(seconds * (total - done) / done, 1)
    elif row["state"] == "completed":
        eta = 0.0
    data.update(
        seconds=None if seconds is None else round(seconds, 3),
        rows_per_s=None if rate is None else round(rate, 1),
        eta_s=eta,
        progress=1.0 if row["state"] == "completed" else round(done / total, 4) if total else 0,
        errors_url=f"/api/v1/imports/{row['id']}/errors.csv",
    )
    return data


async def mark_running(pool: asyncpg.Pool, import_id: int, instance_id: str, now: datetime) -> None:
    await pool.execute(_Q["mark_running"], import_id, instance_id, now)


async def mark_waiting(pool: asyncpg.Pool, import_id: int, note: str, now: datetime) -> None:
    await pool.execute(_Q["mark_waiting"], import_id, note, now)


async def mark_failed(pool: asyncpg.Pool, import_id: int, error: str, now: datetime) -> None:
    await pool.execute(_Q["mark_failed"], import_id, error[:1000], now)


async def unfinished(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(_Q["unfinished_imports"])]


def safe_cell(value: str) -> str:
    """A value that a spreadsheet will not run as a formula (``=HYPERLINK(...)`` and the
    like get a leading ``'``; numbers such as ``+44 20 7946 0958`` stay as written)."""
    if value.startswith(_FORMULA_START) and not _PHONE_TEXT.match(value):
        return "'" + value
    return value


async def report_csv(conn: asyncpg.Connection, import_id: int) -> AsyncIterator[bytes]:
    """The rejected rows as CSV (header first), in pieces, read with a cursor."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    async with conn.transaction():
        batch = 0
        async for r in conn.cursor(_Q["import_rejects"], import_id, prefetch=2000):
            writer.writerow(
                (r["row_no"], r["reason"], safe_cell(r["value"] or ""), r["detail"] or "")
            )
            batch += 1
            if batch >= 2000:
                yield out.getvalue().encode("utf-8")
                out.seek(0)
                out.truncate()
                batch = 0
    yield out.getvalue().encode("utf-8")
