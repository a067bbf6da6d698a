"""The DNC sink: a list import whose numbers become do-not-call entries of one source.

The same importer reads the file (a DNC list is just numbers; a national registry file is
loaded as its named source, with that country as the default region). Every new entry
blocks the leads it covers in the same transaction (status dnc, ``lead.dnc`` events).

In ``replace`` mode (a registry re-downloaded in full every month) the sink also remembers
every number of the file; when the import lands, still in its one transaction, the list's
entries of the same source and scope that the file no longer holds are removed. A refresh
reports ``kept`` (listed before and in the file: not a rejection), ``added`` and
``removed``. A file with no usable number fails instead (it must not empty a registry).
Leads that removed entries made ``dnc`` stay ``dnc``: nothing records whether a person
marked them too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer.dnc.store import block_leads
from dialer.errors import UsageError
from dialer.leads import phones
from dialer.leads.outcome import Reject, Tally, as_source, save_rejects
from dialer.leads.rows import DNC, ChunkResult, staging_columns
from dialer.sql import queries

_Q = queries("dialer.dnc")
DNC_LIST_LOCK = 0x444E  # "DN": (this, hash of source and scope) while a replace runs


class DncSink:
    """Adds one import's numbers to a DNC list (scope and source from the import's options)."""

    def __init__(self, job: dict[str, Any], *, now: datetime) -> None:
        options = job["options"]
        self.import_id: int = job["id"]
        self.client_id: int | None = job["client_id"]
        self.campaign_id: int | None = job["campaign_id"]
        self.source: str = options.get("source") or "internal"
        self.replace = options.get("mode") == "replace"
        self.reason: str | None = options.get("reason")
        expires = options.get("expires_at")
        self.expires_at = datetime.fromisoformat(expires) if expires else None
        self.now = now
        self.blocked = 0
        self.kept = 0  # replace mode: numbers of the file the list held already

    async def begin(self, conn: asyncpg.Connection) -> None:
        await conn.execute(_Q["create_dnc_staging"])
        if self.replace:
            await conn.execute(
                _Q["lock_dnc_list"], DNC_LIST_LOCK, self.source, self.client_id, self.campaign_id
            )
            await conn.execute(_Q["create_dnc_seen"])

    async def write(self, conn: asyncpg.Connection, chunk: ChunkResult, tally: Tally) -> None:
        rejects: list[Reject] = list(chunk.rejects)
        if chunk.staged:
            await conn.execute(_Q["truncate_dnc_staging"])
            await conn.copy_to_table(
                "dnc_staging", source=as_source(chunk.payload), columns=staging_columns(DNC)
            )
            if self.replace:
                await conn.execute(_Q["remember_staged_numbers"])
            leftovers = await conn.fetch(
                _Q["insert_chunk_entries"],
                self.client_id,
                self.campaign_id,
                self.source,
                self.reason,
                self.now,
                self.expires_at,
                self.import_id,
            )
            tally.accepted += chunk.staged - len(leftovers)
            for r in leftovers:
                reject = self._reject(r)
                if self.replace and reject[1] == phones.ALREADY_LISTED:
                    self.kept += 1  # a refresh keeps it: not an error
                else:
                    rejects.append(reject)
            rejects.sort()
            marked = await conn.fetch(
                _Q["mark_staged_leads_dnc"], self.client_id, self.campaign_id, self.now
            )
            self.blocked += await block_leads(
                conn, marked, source=self.source, reason=self.reason, now=self.now
            )
        tally.rows += chunk.rows
        tally.parse_cpu_s += chunk.cpu_s
        tally.warnings.update(chunk.warnings)
        tally.add_rejects(rejects)
        await save_rejects(conn, self.import_id, rejects)

    def _reject(self, r: asyncpg.Record) -> Reject:
        if r["row_no"] != r["first_row"]:
            detail = f"same number as row {r['first_row']} ({r['phone_e164']})"
            return (r["row_no"], phones.DUPLICATE_IN_FILE, r["raw_phone"], detail)
        if r["existing_import"] == self.import_id:
            detail = f"same number as an earlier row ({r['phone_e164']})"
            return (r["row_no"], phones.DUPLICATE_IN_FILE, r["raw_phone"], detail)
        detail = f"{r['phone_e164']} is on this list ({self.source}) already"
        return (r["row_no"], phones.ALREADY_LISTED, r["raw_phone"], detail)

    async def finish(self, conn: asyncpg.Connection, tally: Tally) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "list_id": None,
            "leads_blocked": self.blocked,
            "source": self.source,
            "mode": "replace" if self.replace else "add",
            "removed": 0,
        }
        if self.replace:
            removed = await self._remove_unlisted(conn)
            # What a refresh did to the list: kept, added, removed (kept is no rejection).
            summary.update(kept=self.kept, added=tally.accepted, removed=removed)
            await conn.execute(
                _Q["note_refresh"], self.import_id, self.kept, tally.accepted, removed
            )
        return summary

    async def _remove_unlisted(self, conn: asyncpg.Connection) -> int:
        if not await conn.fetchval(_Q["any_seen_number"]):
            raise UsageError(
                "mode replace: the file has no usable phone number (empty, or the wrong "
                f"column?); the {self.source} list was left as it was"
            )
        removed: int = await conn.fetchval(
            _Q["remove_unlisted_entries"], self.client_id, self.campaign_id, self.source
        )
        return removed
