"""A lead whose connected call ended waits for the agent's disposition (it stays claimed
until the hold runs out), even when a runner taking the campaign over releases the
campaign's claims: otherwise the person just spoken to could be dialed again before the
agent in wrap-up sends "sale" or "do not call"."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg

from dialer.sql import queries
from tests.integration.engine_support import NOON_SF, started_campaign, us_numbers

_ENGINE = queries("dialer.engine")


async def test_a_takeover_keeps_a_lead_waiting_for_its_disposition(epool: asyncpg.Pool) -> None:
    now = NOON_SF
    cid, [talked, queued], [agent] = await started_campaign(epool, now, us_numbers(2), agents=1)
    hold = now + timedelta(minutes=5)
    async with epool.acquire() as conn:
        await conn.execute(
            "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, answered_at,"
            " connected_at, ended_at, outcome, agent_id, compliance, runner, talk_s)"
            " SELECT id, campaign_id, phone_e164, $2, $2, $2, $3, 'completed', $4, $5, 'old', 60"
            " FROM leads WHERE id = $1",
            talked,
            now - timedelta(minutes=2),
            now - timedelta(minutes=1),
            agent,
            json.dumps({"allowed": True}),
        )
        await conn.execute(
            "UPDATE leads SET claimed_by = 'old', claimed_until = $2 WHERE id = ANY($1)",
            [talked, queued],
            hold,
        )
        await conn.execute(_ENGINE["release_campaign_claims"], cid, now)
        rows = {
            r["id"]: r["claimed_until"]
            for r in await conn.fetch(
                "SELECT id, claimed_until FROM leads WHERE campaign_id = $1", cid
            )
        }
        assert rows == {talked: hold, queued: None}  # the hopper's claim goes, the hold stays
        await conn.execute(_ENGINE["release_campaign_claims"], cid, hold + timedelta(seconds=1))
        left = await conn.fetchval("SELECT claimed_until FROM leads WHERE id = $1", talked)
        assert left is None  # once the hold has run out, it is released too
