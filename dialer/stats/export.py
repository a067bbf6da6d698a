"""Call detail export: every attempt of a campaign in a window, as CSV, a chunk at a time.

``attempt_chunks`` reads through a server-side cursor inside a (read-only, repeatable
read) transaction and yields encoded CSV chunks, so an export of millions of attempts
holds one chunk in memory and sees one consistent snapshot. The HTTP handler and the CLI
write the chunks as they come.

Columns (``COLUMNS``): times are UTC ISO 8601 (``2026-01-05T15:00:00.123Z``), durations
in seconds with millisecond precision, empty cells for what did not happen. The calling
rules' decision that allowed the dial is ``compliance_allowed`` (true/false) with its rule
ids, rule packs and waived rules as ``;``-separated lists. Text a person typed (the
disposition) that starts with ``= + - @`` gets a leading ``'`` so a spreadsheet never runs
it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import asyncpg

from dialer.sql import queries

_Q = queries("dialer.stats")
COLUMNS = (
    "attempt_id",
    "lead_id",
    "phone",
    "started_at",
    "answered_at",
    "connected_at",
    "ended_at",
    "outcome",
    "answer",
    "disposition",
    "agent_id",
    "mode",
    "ring_s",
    "wait_s",
    "talk_s",
    "hangup_cause",
    "compliance_allowed",
    "compliance_rules",
    "compliance_packs",
    "compliance_waived",
    "caller_id",
    "recording_url",
)
ROWS_PER_CHUNK = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _list(value: Any) -> str:
    return ";".join(str(v) for v in value) if isinstance(value, list) else ""


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _flag(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


def csv_row(r: asyncpg.Record | dict[str, Any]) -> list[str]:
    """One attempt as the export's cells, in ``COLUMNS`` order."""
    return [
        str(r["id"]),
        str(r["lead_id"]),
        r["phone_e164"],
        _time(r["started_at"]),
        _time(r["answered_at"]),
        _time(r["connected_at"]),
        _time(r["ended_at"]),
        r["outcome"] or "",
        r["answer"] or "",
        _text(r["disposition"]),
        "" if r["agent_id"] is None else str(r["agent_id"]),
        r["mode"] or "",
        _secs(r["ring_s"]),
        _secs(r["wait_s"]),
        _secs(r["talk_s"]),
        _text(r["hangup_cause"]),
        _flag(r["compliance_allowed"]),
        _list(r["compliance_rules"]),
        _list(r["compliance_packs"]),
        _list(r["compliance_waived"]),
        r["caller_id"] or "",  # E.164, validated when the pool was set
        r["recording_url"] or "",
    ]


class _Buffer:
    """csv.writer target that hands back what was written since the last take()."""

    def __init__(self) -> None:
        self._io = io.StringIO()
        self.writer = csv.writer(self._io, lineterminator="\r\n")

    def take(self) -> bytes:
        data = self._io.getvalue().encode("utf-8")
        self._io.seek(0)
        self._io.truncate()
        return data


async def attempt_chunks(
    conn: asyncpg.Connection,
    campaign_id: int,
    *,
    since: datetime,
    until: datetime,
    rows_per_chunk: int = ROWS_PER_CHUNK,
) -> AsyncGenerator[bytes, None]:
    """The CSV (header first) of the attempts started in ``[since, until)``, in chunks.

    The caller checks the campaign is visible to it first; ``conn`` is held until the
    iterator is exhausted or closed.
    """
    out = _Buffer()
    out.writer.writerow(COLUMNS)
    yield out.take()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")  # per window
        cursor = conn.cursor(
            _Q["export_attempts"], campaign_id, since, until, prefetch=rows_per_chunk
        )
        rows = 0
        async for record in cursor:
            out.writer.writerow(csv_row(record))
            rows += 1
            if rows % rows_per_chunk == 0:
                yield out.take()
    tail = out.take()
    if tail:
        yield tail
