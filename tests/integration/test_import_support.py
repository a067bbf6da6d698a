"""Helpers shared by the import tests (this module has no tests of its own)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import asyncpg

from dialer.auth.roles import SYSTEM, Principal
from dialer.clock import FakeClock
from dialer.leads.importer import Importer
from dialer.leads.parallel import ParsePool
from dialer.leads.submit import DncOptions, FileOptions, dnc_import, lead_import

THREAD_POOL = ParsePool(0)  # parse in a thread: fast to start, same code path per chunk


async def make_campaign(
    pool: asyncpg.Pool, *, client_id: int = 1, region: str | None = "US", name: str = ""
) -> int:
    campaign_id: int = await pool.fetchval(
        "INSERT INTO campaigns (client_id, name, purpose, dial_mode, default_region)"
        " VALUES ($1, $2, 'telemarketing', 'predictive', $3) RETURNING id",
        client_id,
        name or f"c-{uuid.uuid4().hex[:8]}",
        region,
    )
    return campaign_id


async def make_client(pool: asyncpg.Pool) -> int:
    client_id: int = await pool.fetchval(
        "INSERT INTO clients (name) VALUES ($1) RETURNING id", f"client-{uuid.uuid4().hex[:8]}"
    )
    return client_id


async def client_lead(pool: asyncpg.Pool, phone: str) -> tuple[int, int]:
    """A new client with a campaign holding one lead on ``phone``: (client id, lead id)."""
    client = await make_client(pool)
    campaign = await make_campaign(pool, client_id=client)
    lead: int = await pool.fetchval(
        "INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, $2) RETURNING id", campaign, phone
    )
    return client, lead


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


async def import_list(
    pool: asyncpg.Pool,
    clock: FakeClock,
    path: Path,
    campaign_id: int,
    *,
    parse_pool: ParsePool = THREAD_POOL,
    who: Principal = SYSTEM,
    **options: Any,
) -> dict[str, Any]:
    """Record and run a lead import the way the CLI does; the final import record."""
    async with pool.acquire() as conn:
        job = await lead_import(
            conn, path, campaign_id, FileOptions(source="cli", **options), who, now=clock.now()
        )
    return await Importer(pool, parse_pool, clock, instance_id="test").run(job["id"])


async def import_dnc(
    pool: asyncpg.Pool,
    clock: FakeClock,
    path: Path,
    dnc: DncOptions,
    *,
    who: Principal = SYSTEM,
    **options: Any,
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        job = await dnc_import(
            conn, path, FileOptions(source="cli", **options), dnc, who, now=clock.now()
        )
    return await Importer(pool, THREAD_POOL, clock, instance_id="test").run(job["id"])
