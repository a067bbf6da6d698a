"""What an import counts as it goes, and what a destination of parsed rows must do.

A ``Sink`` receives the parsed chunks of one import inside the import's transaction: the
lead sink inserts leads into a campaign, the DNC sink adds entries to a do-not-call list.
Both record every row they do not load in ``import_rejects``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from dialer import metrics
from dialer.leads.rows import ChunkResult

Reject = tuple[int, str, str, str]  # row number, reason, value as written, detail
_REJECT_COLUMNS = ("import_id", "row_no", "reason", "value", "detail")


@dataclass
class Tally:
    """Running counts of one import."""

    bytes_read: int = 0
    rows: int = 0
    accepted: int = 0
    dnc: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    parse_cpu_s: float = 0.0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def add_rejects(self, rejects: Iterable[Reject]) -> None:
        self.rejected.update(r[1] for r in rejects)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "dnc": self.dnc,
            "rejected": self.rejected_total,
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "warnings": dict(sorted(self.warnings.items())),
        }

    def count_metrics(self) -> None:
        """Add this import's rows to ``dialer_import_rows_total`` (once, when it lands)."""
        if self.accepted:
            metrics.IMPORT_ROWS.labels("accepted").inc(self.accepted)
        for reason, n in self.rejected.items():
            metrics.IMPORT_ROWS.labels(reason).inc(n)


class Sink(Protocol):
    """Where the parsed rows of an import go; every method runs in the import's transaction."""

    async def begin(self, conn: asyncpg.Connection) -> None:
        """Prepare (staging table, the lead list row …)."""

    async def write(self, conn: asyncpg.Connection, chunk: ChunkResult, tally: Tally) -> None:
        """Load one chunk (in file order) and count it."""

    async def finish(self, conn: asyncpg.Connection, tally: Tally) -> dict[str, Any]:
        """Last steps; returns what the completion event and record need (``list_id`` …)."""


async def save_rejects(conn: asyncpg.Connection, import_id: int, rejects: list[Reject]) -> None:
    """Store rejected rows for the error report (same transaction as the import)."""
    if rejects:
        await conn.copy_records_to_table(
            "import_rejects",
            records=[(import_id, *r) for r in rejects],
            columns=_REJECT_COLUMNS,
        )


async def as_source(payload: bytes) -> AsyncIterator[bytes]:
    """COPY rows produced by a worker, as the source ``copy_to_table`` reads."""
    yield payload
