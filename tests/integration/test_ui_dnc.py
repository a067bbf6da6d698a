"""The DNC page over real HTTP and PostgreSQL: search, add (scope as the principal may),
remove, upload a DNC file through the API's importer; CSRF and client scope hold."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from dialer.http.keys import IMPORTS
from dialer.leads.background import ImportService
from dialer.runtime.parts import imports_part
from tests.integration.test_ui_lists import _upload
from tests.integration.test_ui_pages import _error_for
from tests.integration.test_ui_sessions import Console, open_console


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    folder = tmp_path_factory.mktemp("ui-dnc")
    async with open_console(pool, folder, background=[imports_part]) as helper:
        yield helper


async def _entries(console: Console, phone: str) -> list[asyncpg.Record]:
    return await console.pool.fetch(
        "SELECT * FROM dnc_entries WHERE phone_e164 = $1 ORDER BY id", phone
    )


async def test_add_search_and_remove_a_number(console: Console) -> None:
    cid = await console.campaign("dnc target")
    async with console.pool.acquire() as conn:
        lead = await conn.fetchval(
            "INSERT INTO leads (campaign_id, phone_e164) VALUES ($1, '+442079460555') RETURNING id",
            cid,
        )
    browser = await console.signed_in("manager")
    page = await browser.get("/ui/dnc")
    assert page.status == 200 and 'id="dnc-add"' in page.text
    resp = await browser.submit(
        "/ui/dnc",
        {"phone": "020 7946 0555", "default_region": "GB", "applies_to": "client:1",
         "source": "internal", "reason": "asked by letter"},
    )  # fmt: skip
    assert resp.status == 303 and resp.location == "/ui/dnc?phone=%2B442079460555"
    page = await browser.get(resp.location)
    assert "+442079460555 added to the DNC list. 1 lead blocked." in page.text
    assert "asked by letter" in page.text
    (entry,) = await _entries(console, "+442079460555")
    assert entry["client_id"] == 1 and entry["campaign_id"] is None
    assert await console.pool.fetchval("SELECT status FROM leads WHERE id = $1", lead) == "dnc"
    # Searching by another spelling of the number finds it.
    page = await browser.get("/ui/dnc?phone=%2B44+20+7946+0555")
    assert f'id="dnc-{entry["id"]}"' in page.text
    htmx = {"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    resp = await browser.post(f"/ui/dnc/{entry['id']}/delete", headers=htmx)
    assert resp.status == 200 and "removed from the DNC list" in resp.text
    assert await _entries(console, "+442079460555") == []


async def test_add_errors_sit_next_to_their_field(console: Console) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/dnc")
    resp = await browser.submit("/ui/dnc", {"phone": "12", "applies_to": "global"})
    assert resp.status == 400 and _error_for(resp.text, "phone") is not None
    resp = await browser.submit(
        "/ui/dnc",
        {"phone": "+14155550199", "applies_to": "global", "expires_at": "2020-01-01T00:00"},
    )
    assert "must be in the future" in (_error_for(resp.text, "expires_at") or "")
    resp = await browser.submit(
        "/ui/dnc", {"phone": "+14155550199", "applies_to": "campaign:999999"}
    )
    assert "does not exist" in (_error_for(resp.text, "applies_to") or "")
    assert _error_for(resp.text, "phone") is None and 'value="+14155550199"' in resp.text
    assert await _entries(console, "+14155550199") == []


async def test_scoped_managers_cannot_add_or_remove_global_entries(console: Console) -> None:
    async with console.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('DNC Co') RETURNING id")
        theirs = await conn.fetchval(
            "INSERT INTO dnc_entries (phone_e164, client_id) VALUES ('+14155550177', $1)"
            " RETURNING id",
            other,
        )
        global_id = await conn.fetchval(
            "INSERT INTO dnc_entries (phone_e164) VALUES ('+14155550178') RETURNING id"
        )
    token = await console.token("manager", name="dnc-scoped", client_id=1)
    browser = console.browser()
    await browser.sign_in(token)
    page = await browser.get("/ui/dnc")
    assert 'value="global"' not in page.text  # no "every client" choice for a scoped token
    assert f'id="dnc-{theirs}"' not in page.text and f'id="dnc-{global_id}"' in page.text
    resp = await browser.submit(f"/ui/dnc/{theirs}/delete")
    assert resp.status == 404
    resp = await browser.submit(f"/ui/dnc/{global_id}/delete")
    assert resp.status == 303
    assert "only be removed with a token not limited" in (await browser.get("/ui/dnc")).text
    resp = await browser.submit("/ui/dnc", {"phone": "+14155550179", "applies_to": "global"})
    assert resp.status == 400 and "not limited to one client" in (
        _error_for(resp.text, "applies_to") or ""
    )
    assert (
        await console.pool.fetchval(
            "SELECT count(*) FROM dnc_entries WHERE id = ANY($1)", [theirs, global_id]
        )
        == 2
    )


async def test_forms_need_csrf_and_viewers_only_search(console: Console) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/dnc")
    resp = await browser.post("/ui/dnc", {"phone": "+14155550188", "applies_to": "global"})
    assert resp.status == 403
    status, _ = await _upload(browser, "/ui/dnc/lists", b"phone\n+14155550189\n", csrf=None)
    assert status == 403
    viewer = await console.signed_in("viewer")
    page = await viewer.get("/ui/dnc")
    assert page.status == 200 and 'id="dnc-add"' not in page.text and "data-upload" not in page.text
    assert (await viewer.submit("/ui/dnc", {"phone": "+14155550188"})).status == 403
    assert await _entries(console, "+14155550188") == []


async def test_upload_a_dnc_file(console: Console) -> None:
    cid = await console.campaign("dnc upload target")
    browser = await console.signed_in("manager")
    await browser.get("/ui/dnc")
    body = b"phone\n+14155550161\n+14155550162\nnope\n"
    status, answer = await _upload(
        browser, "/ui/dnc/lists", body, csrf=browser.csrf, file_name="optout.csv",
        applies_to=f"campaign:{cid}", source="crm", reason="opt-out",
    )  # fmt: skip
    assert status == 202, answer
    assert answer["kind"] == "dnc" and answer["campaign_id"] == cid
    service = console.server.app[IMPORTS]  # type: ignore[index]
    assert isinstance(service, ImportService)
    await service.wait_idle(timeout=60)
    (entry,) = await _entries(console, "+14155550161")
    assert entry["campaign_id"] == cid and entry["source"] == "crm" and entry["reason"] == "opt-out"
    page = await browser.get("/ui/dnc")
    assert f'id="import-{answer["id"]}"' in page.text and "data-rejected>1<" in page.text
    status, answer = await _upload(
        browser, "/ui/dnc/lists", body, csrf=browser.csrf, applies_to="planet:3"
    )
    assert status == 400 and answer["field"] == "applies_to"


async def test_upload_a_registry_file_in_replace_mode(console: Console) -> None:
    browser = await console.signed_in("manager")
    page = await browser.get("/ui/dnc")
    assert 'name="mode"' in page.text and '<option value="replace"' in page.text
    for phone in ("+14155550171", "+14155550172"):
        await console.pool.execute(
            "INSERT INTO dnc_entries (phone_e164, client_id, source) VALUES ($1, 1, 'us_dnc')",
            phone,
        )
    status, answer = await _upload(
        browser, "/ui/dnc/lists", b"+14155550171\n", csrf=browser.csrf,
        applies_to="client:1", source="internal", mode="replace",
    )  # fmt: skip
    assert status == 400 and answer["field"] == "mode"
    status, answer = await _upload(
        browser, "/ui/dnc/lists", b"+14155550171\n", csrf=browser.csrf,
        applies_to="client:1", source="us_dnc", mode="replace",
    )  # fmt: skip
    assert status == 202, answer
    service = console.server.app[IMPORTS]  # type: ignore[index]
    await service.wait_idle(timeout=60)
    assert await _entries(console, "+14155550172") == []
    card = await browser.get(f"/ui/imports/{answer['id']}", headers={"HX-Request": "true"})
    assert "data-removed>1<" in card.text
