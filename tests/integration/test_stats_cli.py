"""``dialer stats``: the same report in a terminal, as text or one JSON object."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.cli_support import run
from tests.integration.test_stats_support import (
    EXPECTED,
    EXPECTED_LEADS,
    EXPECTED_OUTCOMES,
    H,
    Seeded,
    seed,
)


@pytest.fixture(scope="module")
async def seeded(pool: asyncpg.Pool) -> Seeded:
    async with pool.acquire() as conn:
        return await seed(conn, datetime.now(UTC))


def test_json_report_of_the_last_24_hours(
    seeded: Seeded, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "stats", str(seeded.campaign_id), "--json")
    assert code == 0
    body = json.loads(out)  # exactly one JSON object
    for key in ("dials", "human_answers", "connects", "abandons", "abandon_rate", "talk_s"):
        assert body[key] == EXPECTED[key], key
    assert body["outcomes"] == EXPECTED_OUTCOMES and body["leads"] == EXPECTED_LEADS
    assert body["blocked_by_rules"] == EXPECTED["blocked_by_rules"]


def test_text_report_by_campaign_name_and_window(
    seeded: Seeded, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "stats", "--json", str(seeded.campaign_id))
    name = json.loads(out)["campaign"]["name"]
    code, out, _ = run(capsys, "stats", name)
    assert code == 0
    assert f"campaign {seeded.campaign_id} '{name}'" in out
    assert "dials       7 (1 in progress)" in out
    assert "abandons    1 (33.3% of human answers; limit 3.0%)" in out
    assert "legal       24h 33.3% (1/3)  30d 40.0% (2/5)" in out
    assert "us.calling_hours 2" in out and "11 total, 7 remaining" in out
    # An explicit window holding only the abandon of 30 hours ago.
    now = datetime.now(UTC)
    since, until = (now - 31 * H).isoformat(), (now - 29 * H).isoformat()
    code, out, _ = run(capsys, "stats", str(seeded.campaign_id), "--from", since, "--to", until)
    assert code == 0 and "dials       1 (0 in progress)" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--from", "last week"], "--from"),
        (["--to", "2026-01-05T10:00:00"], "--to"),
        (["--from", "2026-01-05T10:00:00Z", "--to", "2026-01-05T09:00:00Z"], "--from"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    seeded: Seeded,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    needle: str,
) -> None:
    code, _, err = run(capsys, "stats", str(seeded.campaign_id), *argv)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_an_unknown_campaign_exits_2(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "stats", "no-such-campaign")
    assert code == 2 and "no-such-campaign" in err and err.count("\n") == 1
