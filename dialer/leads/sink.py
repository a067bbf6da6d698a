"""The lead sink: parsed chunks of a list become leads of a campaign.

Each chunk is COPYed into a temporary staging table and inserted with
``INSERT … ON CONFLICT DO NOTHING`` in file order, so the first row of a number wins and
later rows with the same number are reported as ``duplicate_in_file`` (an earlier row of
this list) or ``duplicate_in_campaign`` (a lead the campaign had before). Numbers on a DNC
list that applies become leads with status ``dnc``: kept, never dialed, and reported.
Everything happens in the import's single transaction: the list lands whole or not at all.
The foreign keys are the same for every row, so they are checked once per import and the
per-row trigger checks are skipped where the database role may do so (see queries.sql).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dialer.dnc.lookup import dnc_sources
from dialer.leads import phones
from dialer.leads.outcome import Reject, Tally, as_source, save_rejects
from dialer.leads.rows import LEADS, ChunkResult, staging_columns
from dialer.sql import queries

_Q = queries("dialer.leads")
_P = queries("dialer.privacy")
_ERASED = "this person was erased at their request: not imported again"
_STAGING = "import_staging"


class LeadSink:
    """Loads one import's rows into its campaign as a new lead list."""

    def __init__(self, job: dict[str, Any], *, now: datetime) -> None:
        self.job = job
        self.import_id: int = job["id"]
        self.campaign_id: int = job["campaign_id"]
        self.client_id: int = job["client_id"]
        self.now = now
        self.list_id: int | None = None
        self.fk_checked_once = False

    async def begin(self, conn: asyncpg.Connection) -> None:
        await conn.execute(_Q["create_lead_staging"])
        # the campaign, key-share locked; the list's own foreign key fails if it is gone
        await conn.execute(_Q["lock_campaign_key"], self.campaign_id)
        self.list_id = await conn.fetchval(
            _Q["create_list"],
            self.campaign_id,
            self.job["name"],
            "cli" if self.job["source"] == "cli" else "upload",
            self.job["options"].get("default_region"),
            self.now,
        )
        self.fk_checked_once = await _may_skip_row_fk_checks(conn)

    async def write(self, conn: asyncpg.Connection, chunk: ChunkResult, tally: Tally) -> None:
        rejects: list[Reject] = list(chunk.rejects)
        if chunk.staged:
            await conn.execute(_Q["truncate_staging"])
            await conn.copy_to_table(
                _STAGING, source=as_source(chunk.payload), columns=staging_columns(LEADS)
            )
            erased = await conn.fetch(_P["drop_suppressed_staging"], self.client_id)
            rejects += [(r["row_no"], phones.ERASED, "", _ERASED) for r in erased]  # never kept
            if self.fk_checked_once:
                await conn.execute(_Q["row_fk_checks_off"])
            leftovers = await conn.fetch(
                _Q["insert_chunk_leads"], self.campaign_id, self.list_id, self.client_id, self.now
            )
            if self.fk_checked_once:  # a failed insert aborts the transaction, which resets it
                await conn.execute(_Q["row_fk_checks_on"])
            dnc_rows = [r for r in leftovers if r["status"] == "dnc"]
            duplicates = [r for r in leftovers if r["status"] is None]
            tally.accepted += chunk.staged - len(erased) - len(leftovers)
            tally.dnc += len(dnc_rows)
            rejects += await self._dnc_rejects(conn, dnc_rows)
            rejects += await self._duplicate_rejects(conn, duplicates)
            rejects.sort()
        tally.rows += chunk.rows
        tally.parse_cpu_s += chunk.cpu_s
        tally.warnings.update(chunk.warnings)
        tally.add_rejects(rejects)
        await save_rejects(conn, self.import_id, rejects)

    async def _dnc_rejects(
        self, conn: asyncpg.Connection, rows: list[asyncpg.Record]
    ) -> list[Reject]:
        if not rows:
            return []
        sources = await dnc_sources(
            conn,
            [r["phone_e164"] for r in rows],
            client_id=self.client_id,
            campaign_id=self.campaign_id,
            now=self.now,
        )
        return [
            (
                r["row_no"],
                phones.DNC,
                r["raw_phone"],
                "on the do-not-call list ("
                + ", ".join(sources.get(r["phone_e164"], ["dnc"]))
                + "): loaded with status dnc, never dialed",
            )
            for r in rows
        ]

    async def _duplicate_rejects(
        self, conn: asyncpg.Connection, rows: list[asyncpg.Record]
    ) -> list[Reject]:
        if not rows:
            return []
        existing = {
            r["phone_e164"]: r
            for r in await conn.fetch(
                _Q["existing_leads"], self.campaign_id, [r["phone_e164"] for r in rows]
            )
        }
        rejects: list[Reject] = []
        for r in rows:
            lead = existing.get(r["phone_e164"])
            if lead is not None and lead["list_id"] == self.list_id:
                rejects.append(
                    (
                        r["row_no"],
                        phones.DUPLICATE_IN_FILE,
                        r["raw_phone"],
                        f"same number as row {lead['list_row']} ({r['phone_e164']})",
                    )
                )
            else:
                lead_id = lead["id"] if lead is not None else "?"
                rejects.append(
                    (
                        r["row_no"],
                        phones.DUPLICATE_IN_CAMPAIGN,
                        r["raw_phone"],
                        f"{r['phone_e164']} is already lead {lead_id} of this campaign",
                    )
                )
        return rejects

    async def finish(self, conn: asyncpg.Connection, tally: Tally) -> dict[str, Any]:
        return {"list_id": self.list_id}


async def _may_skip_row_fk_checks(conn: asyncpg.Connection) -> bool:
    """Whether this role may set ``session_replication_role`` (tried in a savepoint)."""
    try:
        async with conn.transaction():
            await conn.execute(_Q["row_fk_checks_off"])
            await conn.execute(_Q["row_fk_checks_on"])
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True
