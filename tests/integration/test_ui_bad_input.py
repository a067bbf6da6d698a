"""Console forms get the same input checks as the API: a NUL or a lone surrogate in a field
is an error page, never a 500, and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.integration.test_ui_sessions import Console, open_console


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with open_console(pool, tmp_path_factory.mktemp("ui-bad")) as helper:
        yield helper


@pytest.mark.parametrize("reason", ["letter\x00", "\x00"])
async def test_a_dnc_form_with_unstorable_text_is_refused(console: Console, reason: str) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/dnc")
    form = {"phone": "020 7946 0556", "default_region": "GB", "applies_to": "client:1",
            "source": "internal", "reason": reason}  # fmt: skip
    resp = await browser.submit("/ui/dnc", form)
    assert resp.status == 400, resp.text
    assert "reason" in resp.text
    stored = await console.pool.fetchval(
        "SELECT count(*) FROM dnc_entries WHERE phone_e164 = '+442079460556'"
    )
    assert stored == 0


async def test_a_campaign_form_with_nan_is_refused_by_the_model(console: Console) -> None:
    browser = await console.signed_in("manager")
    page = await browser.get("/ui/campaigns/new")
    assert page.status == 200
    resp = await browser.submit(
        "/ui/campaigns/new",
        {"name": "nan form", "purpose": "survey", "dial_mode": "power", "dial_level": "nan"},
    )
    assert resp.status in (200, 400), resp.text
    assert (
        await console.pool.fetchval("SELECT count(*) FROM campaigns WHERE name = 'nan form'") == 0
    )


@pytest.mark.parametrize("query", ["?state=run%00ning", "?q=%00", "?a%00=1"])
async def test_a_console_query_with_unstorable_text_is_an_error_page(
    console: Console, query: str
) -> None:
    browser = await console.signed_in("manager")
    resp = await browser.get(f"/ui/campaigns{query}")
    assert resp.status == 400, resp.text
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Cannot do that" in resp.text and "must not contain" in resp.text
