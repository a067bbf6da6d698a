"""Known attempt records for the stats tests (this module has no tests of its own).

``seed`` writes one campaign's history relative to ``now``: attempts inside the default
24-hour window and outside it, an agent's state changes, calling-rule deferrals in the
outbox, and leads in every status; ``EXPECTED`` holds the figures the report must give.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

H = timedelta(hours=1)
M = timedelta(minutes=1)
ALLOWED = {"allowed": True, "rule_ids": [], "packs": ["default", "us"], "waived_rules": []}
FORMULA = '=HYPERLINK("http://x")'


@dataclass
class Seeded:
    campaign_id: int
    client_id: int
    agent_id: int
    attempt_ids: dict[str, int]
    lead_ids: list[int]


async def make_client(conn: asyncpg.Connection) -> int:
    client_id: int = await conn.fetchval(
        "INSERT INTO clients (name) VALUES ($1) RETURNING id", f"client-{uuid.uuid4().hex[:8]}"
    )
    return client_id


async def make_campaign(
    conn: asyncpg.Connection, now: datetime, *, client_id: int = 1, state: str = "running"
) -> int:
    campaign_id: int = await conn.fetchval(
        "INSERT INTO campaigns (client_id, name, purpose, dial_mode, state, caller_id,"
        " created_at, updated_at)"
        " VALUES ($1, $2, 'telemarketing', 'predictive', $3, '+14155550100', $4, $4)"
        " RETURNING id",
        client_id,
        f"stats-{uuid.uuid4().hex[:8]}",
        state,
        now - 60 * 24 * H,
    )
    return campaign_id


async def make_leads(
    conn: asyncpg.Connection, campaign_id: int, rows: list[tuple[str, int]], now: datetime
) -> list[int]:
    """Leads with (status, attempts_count); numbers are unique per campaign."""
    ids = []
    for i, (status, attempts) in enumerate(rows):
        ids.append(
            await conn.fetchval(
                "INSERT INTO leads (campaign_id, phone_e164, status, attempts_count,"
                " next_attempt_at, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $5, $5) RETURNING id",
                campaign_id,
                f"+1415555{i:04d}",
                status,
                attempts,
                now - 48 * H,
            )
        )
    return ids


async def add_attempt(
    conn: asyncpg.Connection,
    campaign_id: int,
    lead_id: int,
    started: datetime,
    *,
    outcome: str | None,
    answer: str | None = None,
    connected: bool = False,
    wait_s: float | None = None,
    talk_s: float | None = None,
    agent_id: int | None = None,
    disposition: str | None = None,
    mode: str = "predictive",
    compliance: dict[str, Any] | None = None,
) -> int:
    answered = started + timedelta(seconds=10) if answer else None
    connected_at = answered + timedelta(seconds=wait_s or 0) if connected and answered else None
    ended = None if outcome is None else started + timedelta(seconds=30 + (talk_s or 0))
    attempt_id: int = await conn.fetchval(
        "INSERT INTO attempts (lead_id, campaign_id, phone_e164, started_at, answered_at,"
        " connected_at, ended_at, outcome, answer, disposition, agent_id, compliance, wait_s,"
        " talk_s, ring_s, mode, hangup_cause)"
        " SELECT $1, $2, phone_e164, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 10.0, $14,"
        " CASE WHEN $7::text IS NULL THEN NULL ELSE 'normal_clearing' END"
        " FROM leads WHERE id = $1 RETURNING id",
        lead_id,
        campaign_id,
        started,
        answered,
        connected_at,
        ended,
        outcome,
        answer,
        disposition,
        agent_id,
        compliance or ALLOWED,
        wait_s,
        talk_s,
        mode,
    )
    return attempt_id


async def seed(conn: asyncpg.Connection, now: datetime, *, client_id: int = 1) -> Seeded:
    """The history described in the module docstring; see ``EXPECTED``."""
    cid = await make_campaign(conn, now, client_id=client_id)
    statuses = [("new", 0)] * 4 + [("retry", 1), ("retry", 1), ("callback", 1)]
    statuses += [("completed", 2), ("completed", 1), ("dnc", 1), ("exhausted", 5)]
    leads = await make_leads(conn, cid, statuses, now)
    agent_id: int = await conn.fetchval(
        "INSERT INTO agents (client_id, name, state, state_changed_at, created_at)"
        " VALUES ($1, $2, 'offline', $3, $3) RETURNING id",
        client_id,
        f"agent-{uuid.uuid4().hex[:8]}",
        now - 48 * H,
    )
    await conn.execute("INSERT INTO agent_campaigns VALUES ($1, $2)", agent_id, cid)
    a: dict[str, int] = {}
    a["no_answer"] = await add_attempt(conn, cid, leads[4], now - 2 * H, outcome="no_answer")
    a["busy"] = await add_attempt(conn, cid, leads[5], now - 2 * H + M, outcome="busy")
    a["sale"] = await add_attempt(
        conn, cid, leads[7], now - H, outcome="completed", answer="human", connected=True,
        wait_s=0.8, talk_s=120.0, agent_id=agent_id, disposition="sale",
    )  # fmt: skip
    a["abandoned"] = await add_attempt(
        conn, cid, leads[8], now - 50 * M, outcome="abandoned", answer="human", wait_s=2.0
    )
    a["machine"] = await add_attempt(
        conn, cid, leads[9], now - 40 * M, outcome="machine", answer="machine"
    )
    a["formula"] = await add_attempt(
        conn, cid, leads[6], now - 30 * M, outcome="completed", answer="human", connected=True,
        wait_s=0.4, talk_s=60.0, agent_id=agent_id, disposition=FORMULA,
    )  # fmt: skip
    a["open"] = await add_attempt(
        conn, cid, leads[10], now - 5 * M, outcome=None, mode="progressive"
    )
    # Outside the default window: 30 hours, 10 days and 40 days ago.
    a["old_abandon"] = await add_attempt(
        conn, cid, leads[10], now - 30 * H, outcome="abandoned", answer="human", wait_s=2.0
    )
    a["old_sale"] = await add_attempt(
        conn, cid, leads[10], now - 240 * H, outcome="completed", answer="human",
        connected=True, wait_s=0.5, talk_s=30.0,
    )  # fmt: skip
    a["ancient_abandon"] = await add_attempt(
        conn, cid, leads[10], now - 960 * H, outcome="abandoned", answer="human", wait_s=2.0
    )
    # The agent: available all day, two calls of 2 and 1 minutes, logged out 10 minutes ago.
    log = [
        ("available", None, now - 30 * H),
        ("on_call", a["sale"], now - H),
        ("wrap_up", a["sale"], now - H + 2 * M),
        ("available", None, now - H + 3 * M),
        ("on_call", a["formula"], now - 30 * M),
        ("wrap_up", a["formula"], now - 29 * M),
        ("available", None, now - 28 * M),
        ("offline", None, now - 10 * M),
    ]
    await conn.executemany(
        "INSERT INTO agent_state_log (agent_id, state, attempt_id, at) VALUES ($1, $2, $3, $4)",
        [(agent_id, state, attempt, at) for state, attempt, at in log],
    )
    # Calling-rule deferrals: two inside the window (one blocked by two rules), one before.
    for rules, at in (
        (["us.calling_hours"], now - 3 * H),
        (["us.calling_hours", "us.holiday"], now - 2 * H),
        (["gb.tps"], now - 26 * H),
    ):
        await conn.execute(
            "INSERT INTO webhook_outbox (type, client_id, campaign_id, lead_id, payload,"
            " created_at) VALUES ('compliance.blocked', $1, $2, $3, $4, $5)",
            client_id,
            cid,
            leads[0],
            {"lead_id": leads[0], "rule_ids": rules},
            at,
        )
    return Seeded(cid, client_id, agent_id, a, leads)


# Figures for the default window (the 24 hours before ``now``).
LOGGED_IN_S = (24 * 60 - 10) * 60.0  # from the window's start until the logout
TALK_S = 180.0
EXPECTED: dict[str, Any] = {
    "dials": 7,
    "in_progress": 1,
    "human_answers": 3,
    "machine_answers": 1,
    "answer_rate": 0.5,
    "connects": 2,
    "abandons": 1,
    "abandon_rate": round(1 / 3, 6),
    "agent_occupancy": round(TALK_S / LOGGED_IN_S, 6),
    "agent_seconds": {"logged_in": LOGGED_IN_S, "talking": TALK_S},
    "wait_to_connect_s": {"avg": 0.6, "max": 0.8},
    "talk_s": {"avg": 90.0, "total": 180.0},
    "blocked_by_rules": {"deferrals": 2, "by_rule": {"us.calling_hours": 2, "us.holiday": 1}},
}
EXPECTED_OUTCOMES = {
    "no_answer": 1,
    "busy": 1,
    "failed": 0,
    "machine": 1,
    "human": 0,
    "abandoned": 1,
    "completed": 2,
    "unknown": 0,
}
EXPECTED_LEADS = {
    "total": 11,
    "by_status": {
        "new": 4,
        "retry": 2,
        "callback": 1,
        "completed": 2,
        "dnc": 1,
        "exhausted": 1,
        "paused": 0,
        "invalid": 0,
        "erased": 0,
    },
    "by_attempts": {"0": 4, "1": 5, "2": 1, "5": 1},
    "attempted": 7,
    "remaining": 7,
    "penetration": round(7 / 11, 6),
}
