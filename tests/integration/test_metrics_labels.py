"""Label sets stay bounded: 10,000 simulated calls through the real engine create no
series per lead, phone or call, only per campaign and enum-like values; the HTTP metrics
label routes by pattern, never by concrete path.

The engine runs in this process (simulated gateway, simulated agents, sped up) on its own
database, so its metrics are read from prometheus_client's registry directly; series other
tests of the session left behind are set aside by taking a snapshot first.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import AsyncIterator

import asyncpg
import pytest
from prometheus_client import REGISTRY

from dialer import db
from dialer.agents.states import STATES as AGENT_STATES
from dialer.campaigns.model import DIAL_MODES
from dialer.campaigns.model import STATES as CAMPAIGN_STATES
from dialer.clock import FakeClock
from dialer.compliance import load_rulebook
from dialer.engine.budget import WINDOWS
from dialer.engine.calls import OUTCOMES
from dialer.engine.runner import RunnerOptions
from dialer.engine.series import (
    INBOUND_RESULTS,
    MANUAL_RESULTS,
    TRANSFER_MODES,
    TRANSFER_RESULTS,
)
from dialer.gateway import MONITOR_MODES
from tests.integration.conftest import Api
from tests.integration.engine_support import (
    FAST_HUMANS,
    add_leads,
    make_campaign,
    running_engine,
    start,
    wait_for,
)
from tests.integration.test_engine import NOON_SF

pytestmark = pytest.mark.slow
CALLS = 10_000
# A predictive campaign with simulated agents and an agentless one (the fast dialer),
# numbers in San Francisco's and Los Angeles' area codes: calling hours open at NOON_SF.
AREAS = ("+1415555", "+1213555")
MODES = ("predictive", "agentless")
LEADS = (3_500, 8_000)
Series = tuple[str, tuple[tuple[str, str], ...]]  # family, sorted label pairs


def series() -> set[Series]:
    """Every labelled series in the registry (histogram buckets folded into their series)."""
    found: set[Series] = set()
    for family in REGISTRY.collect():
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            if labels:
                found.add((family.name, labels))
    return found


def allowed_values(campaigns: set[str]) -> dict[str, set[str] | re.Pattern[str]]:
    rules = {rule.id for pack in load_rulebook().packs for rule in pack.rules}
    return {
        "campaign": campaigns,
        "outcome": set(OUTCOMES),
        # dials; supervisor monitor sessions; transfers
        "mode": set(DIAL_MODES) | set(MONITOR_MODES) | set(TRANSFER_MODES),
        "state": set(AGENT_STATES) | set(CAMPAIGN_STATES),
        "window": set(WINDOWS),
        # compliance decisions; voicemail beeps; recording uploads; callbacks; transfers
        "result": {"allowed", "blocked", "heard", "timeout", "failed", "uploaded", "unrouted"}
        | set(MANUAL_RESULTS)
        | set(INBOUND_RESULTS)
        | set(TRANSFER_RESULTS),
        "rule": rules | {"none", "unknown", "place.unknown-zone"} | {"dnc"},
        "reason": re.compile(r"[a-z_]{1,40}"),
        "name": re.compile(r"c-\d+"),  # the campaigns' names (dialer_campaign_info)
        "client": {"1"},
        # the number presented to callees: the campaigns' own caller IDs, never a callee's
        "caller_id": {"+14155550100"},
    }


def _ok(value: str, allowed: set[str] | re.Pattern[str]) -> bool:
    if isinstance(allowed, re.Pattern):
        return allowed.fullmatch(value) is not None
    return value in allowed or value.startswith("dnc.")  # dnc.<source>: the DNC lists


@pytest.fixture
async def epool(fresh_db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(fresh_db_url, min_size=2, max_size=30)
    yield pool
    await pool.close()


async def _outcomes(pool: asyncpg.Pool, campaigns: list[int]) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM attempts WHERE campaign_id = ANY($1) AND ended_at IS NOT NULL",
            campaigns,
        )
    )


async def test_ten_thousand_calls_create_no_per_call_series(epool: asyncpg.Pool) -> None:
    clock = FakeClock(NOON_SF)
    before = series()
    ids = []
    async with epool.acquire() as conn:
        for area, mode, leads in zip(AREAS, MODES, LEADS, strict=True):
            campaign = await make_campaign(
                conn, clock.now(), dial_mode=mode, max_lines=300, safe_harbor_message="Hello."
            )
            phones = [f"{area}{i:04d}" for i in range(leads)]
            await add_leads(conn, campaign["id"], phones, clock.now())
            await start(conn, campaign["id"], clock.now())
            ids.append(campaign["id"])
    campaigns = {str(i) for i in ids}
    options = RunnerOptions(lease_ttl_s=30, tick_s=0.05, shutdown_timeout_s=10)
    async with running_engine(
        epool, clock=clock, speed=200, callee=FAST_HUMANS, sim_agents=40, options=options
    ):
        await wait_for(lambda: _outcomes(epool, ids), timeout=60)  # dialing has begun
        halfway = await wait_for(lambda: _at_least(epool, ids, CALLS // 5), timeout=240, every=0.5)
        early = series() - before
        assert halfway
        await wait_for(lambda: _at_least(epool, ids, CALLS), timeout=600, every=0.5)
        late = series() - before

    assert await _outcomes(epool, ids) >= CALLS
    allowed = allowed_values(campaigns)
    per_family: dict[str, int] = defaultdict(int)
    for family, labels in late:
        per_family[family] += 1
        for key, value in labels:
            assert key in allowed, (family, key)
            assert _ok(value, allowed[key]), (family, key, value)
            if key != "caller_id":
                assert not re.fullmatch(r"\+?\d{7,}", value), (family, key, value)  # phone-like
    # Bounded by campaigns x label values, whatever the number of calls.
    for family, count in per_family.items():
        assert count <= len(campaigns) * 300, (family, count)
    assert per_family["dialer_call_outcomes"] <= len(campaigns) * len(OUTCOMES)
    assert per_family["dialer_dials"] <= len(campaigns) * len(DIAL_MODES)
    assert per_family["dialer_agents"] <= len(campaigns) * len(AGENT_STATES)
    assert per_family["dialer_wait_to_connect_seconds"] <= len(campaigns)
    # Five times the calls, (almost) no new series: only values seen late for the first time.
    grown = {s for s in late - early if s[0] not in ("dialer_compliance_decisions",)}
    assert len(grown) <= 2 * len(OUTCOMES), sorted(grown)


async def _at_least(pool: asyncpg.Pool, ids: list[int], n: int) -> bool:
    return await _outcomes(pool, ids) >= n


async def test_http_metrics_label_routes_not_paths(api: Api) -> None:
    route = "/api/v1/campaigns/{id}/stats"
    labels = {"method": "GET", "route": route, "status": "404"}
    counted = REGISTRY.get_sample_value("dialer_http_requests_total", labels) or 0.0
    before = series()
    for campaign_id in range(100_000, 100_300):
        status, _ = await api.call("GET", f"/api/v1/campaigns/{campaign_id}/stats")
        assert status == 404
    assert REGISTRY.get_sample_value("dialer_http_requests_total", labels) == counted + 300
    # At most the two series of this route (requests, latency) are new; no concrete path.
    assert len({s for s in series() - before if s[0].startswith("dialer_http")}) <= 2
    for family, pairs in series():
        if family.startswith("dialer_http"):
            assert not re.search(r"/\d+(/|$)", dict(pairs)["route"]), pairs
