"""Campaign figures the console shows: the list's batch summaries agree with the stats
report, the live view's per-minute timeline adds up, and the pages show both."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from dialer.outbox import enqueue
from dialer.stats import campaign_stats
from dialer.stats.summary import campaign_summaries, day_start
from dialer.stats.timeline import recent_attempts, timeline
from tests.integration.test_stats_support import (
    EXPECTED,
    EXPECTED_LEADS,
    H,
    M,
    add_attempt,
    make_campaign,
    make_leads,
    seed,
)
from tests.integration.test_ui_sessions import Console, open_console


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with open_console(pool, tmp_path_factory.mktemp("ui-figures")) as helper:
        yield helper


async def test_batch_summaries_agree_with_the_stats_report(console: Console) -> None:
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        seeded = [await seed(conn, now), await seed(conn, now - 3 * H)]
        busy = await make_campaign(conn, now)
        leads = await make_leads(conn, busy, [("new", 0), ("retry", 1), ("completed", 1)], now)
        for n, lead in enumerate(leads):
            await add_attempt(
                conn, busy, lead, now - (n + 1) * M, outcome="abandoned", answer="human"
            )
        quiet = await make_campaign(conn, now)  # no leads, no attempts, no agents
        ids = [s.campaign_id for s in seeded] + [busy, quiet]
        for since, until in ((now - 24 * H, now), (now - 2 * H, now - H), (now - 90 * 24 * H, now)):
            batch = await campaign_summaries(conn, ids, since=since, until=until, now=now)
            assert set(batch) == set(ids)
            for cid in ids:
                one = await campaign_stats(conn, cid, scope=None, since=since, until=until, now=now)
                got = batch[cid]
                assert got.dials == one["dials"], (cid, since)
                assert got.connects == one["connects"]
                assert got.abandon_rate == one["abandon_rate"]
                assert got.occupancy == one["agent_occupancy"]
                assert got.leads_remaining == one["leads"]["remaining"]
    first = await _summary(console, seeded[0].campaign_id)
    assert first.dials == EXPECTED["dials"] and first.leads_remaining == EXPECTED_LEADS["remaining"]


async def _summary(console: Console, cid: int):  # type: ignore[no-untyped-def]
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        found = await campaign_summaries(conn, [cid], since=now - 24 * H, until=now, now=now)
    return found[cid]


async def test_timeline_buckets_add_up_to_the_report(console: Console) -> None:
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        s = await seed(conn, now)
        since = now - 2 * H
        buckets = await timeline(conn, s.campaign_id, since=since, until=now, bucket_s=600)
        report = await campaign_stats(conn, s.campaign_id, scope=None, since=since, until=now)
        recent = await recent_attempts(conn, s.campaign_id, limit=3)
    assert len(buckets) == 12 and buckets[0].start == since
    assert buckets[-1].start == now - timedelta(minutes=10)
    assert sum(b.dials for b in buckets) == report["dials"]
    assert sum(b.connects for b in buckets) == report["connects"]
    assert sum(b.abandons for b in buckets) == report["abandons"]
    # The abandoned call 50 minutes ago lies in the bucket starting 70 minutes into the window.
    assert buckets[7].abandons == 1
    assert [r["id"] for r in recent] == [
        s.attempt_ids["open"],
        s.attempt_ids["formula"],
        s.attempt_ids["machine"],
    ]
    assert recent[0]["allowed"] is True and recent[0]["packs"] == ["default", "us"]


def test_today_begins_at_midnight_in_the_operating_zone() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    assert day_start(now, None).isoformat() == "2026-03-10T00:00:00+00:00"
    # 02:30 UTC is still the 9th in New York (EDT from the 8th): today began at 04:00 UTC.
    assert day_start(now, "America/New_York").astimezone(UTC).isoformat() == (
        "2026-03-09T04:00:00+00:00"
    )


async def test_the_campaign_list_shows_todays_figures(console: Console) -> None:
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        cid = await make_campaign(conn, now)
        leads = await make_leads(conn, cid, [("new", 0)] * 3 + [("retry", 1)], now)
        await add_attempt(conn, cid, leads[3], now - M, outcome="completed", answer="human",
                          connected=True, wait_s=0.5, talk_s=30.0)  # fmt: skip
        for lead in leads[:2]:
            await add_attempt(conn, cid, lead, now - 2 * M, outcome="no_answer")
        await add_attempt(conn, cid, leads[2], now - 3 * M, outcome="abandoned", answer="human")
    browser = await console.signed_in("viewer")
    page = await browser.get("/ui/campaigns")
    row = page.text.split(f'id="campaign-{cid}"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num ?([^"]*)">([^<]*)</td>', row)
    assert now - day_start(now, None) >= 3 * M  # the attempts above all fall on today
    assert [text for _, text in cells] == ["4", "4", "1", "50.0 %", "—"]
    assert cells[3][0] == "is-over"  # 50 % abandons: red


async def test_live_view_shows_figures_chart_agents_and_decisions(console: Console) -> None:
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        s = await seed(conn, now)
    browser = await console.signed_in("viewer")
    page = await browser.get(f"/ui/campaigns/{s.campaign_id}")
    assert page.status == 200
    for part in ('id="kpi-dials"', '<svg class="chart"', 'id="agents-by-state"', 'id="attempts"'):
        assert part in page.text
    assert 'hx-get="/ui/campaigns/' in page.text and 'hx-trigger="every 3s"' in page.text
    # The packs a decision applied, as jurisdictions linking to the rules (not "packs in").
    assert "Allowed" in page.text and 'href="/ui/rules#pack-us"' in page.text
    assert ">US</a>" in page.text and "packs default" not in page.text
    panel = await browser.get(f"/ui/campaigns/{s.campaign_id}/live", headers={"HX-Request": "true"})
    assert panel.status == 200 and "<html" not in panel.text
    assert 'id="campaign-state"' in panel.text and 'hx-swap-oob="true"' in panel.text


async def test_held_leads_say_when_they_are_next_called(console: Console) -> None:
    now = console.clock.now()
    async with console.pool.acquire() as conn:
        cid = await make_campaign(conn, now)
        lead = (await make_leads(conn, cid, [("new", 0)], now))[0]
        browser = await console.signed_in("viewer")
        page = await browser.get(f"/ui/campaigns/{cid}")
        assert "none today" in page.text.split('id="held-until"')[1].split("</div>")[0]
        at = now.replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
        await enqueue(
            conn, "compliance.blocked", client_id=1, campaign_id=cid, lead_id=lead, now=now - M,
            data={"lead_id": lead, "campaign_id": cid, "rule_ids": ["us-fl.hours"],
                  "reasons": [], "next_attempt_at": at, "decided_at": now},
        )  # fmt: skip
    page = await browser.get(f"/ui/campaigns/{cid}")
    held = page.text.split('id="held-until"')[1].split("</div>")[0]
    assert f"next called {at.strftime('%a')} 09:00" in held
    assert "us-fl.hours 1" in page.text
