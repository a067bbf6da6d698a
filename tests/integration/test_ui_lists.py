"""Lead lists in the console over real HTTP and PostgreSQL: a CSV streamed to the page's
upload route lands through the importer, its card shows progress and the rejected rows by
reason, errors.csv downloads with the session's scope; CSRF and client scope hold."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from dialer.http.keys import IMPORTS
from dialer.leads.background import ImportService
from dialer.runtime.parts import imports_part
from tests.integration.test_ui_sessions import Browser, Console, open_console

GOOD = ["+14155550101", "+14155550102", "+442079460123", "+14155550103"]
CSV_TEXT = (
    "phone,first_name,account\n"
    + "".join(f"{p},Ana {n},A{n:03d}\n" for n, p in enumerate(GOOD))
    + "not a number,Bad,B001\n"
    + f"{GOOD[0]},Again,A900\n"
    + ",Empty,B002\n"
)


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    folder = tmp_path_factory.mktemp("ui-lists")
    async with open_console(pool, folder, background=[imports_part]) as helper:
        yield helper


async def _idle(console: Console) -> None:
    service = console.server.app[IMPORTS]  # type: ignore[index]
    assert isinstance(service, ImportService)
    await service.wait_idle(timeout=60)


async def _upload(
    browser: Browser, url: str, body: bytes, *, csrf: str | None, **params: str
) -> tuple[int, Any]:
    headers = {"Content-Type": "text/csv"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    async with browser.http.post(url, data=body, headers=headers, params=params) as resp:
        data = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, data


async def test_upload_streams_into_the_importer_and_reports_rejects(console: Console) -> None:
    cid = await console.campaign("lists journey")
    browser = await console.signed_in("manager")
    page = await browser.get(f"/ui/campaigns/{cid}/lists")
    assert page.status == 200 and "data-upload" in page.text and "No list has been" in page.text
    status, body = await _upload(
        browser, f"/ui/campaigns/{cid}/lists", CSV_TEXT.encode(), csrf=browser.csrf,
        file_name="spring.csv", name="Spring list",
    )  # fmt: skip
    assert status == 202, body
    assert body["name"] == "Spring list" and body["state"] == "queued"
    await _idle(console)
    card = await browser.get(f"/ui/imports/{body['id']}", headers={"HX-Request": "true"})
    assert card.status == 200 and "<html" not in card.text
    assert 'data-state="completed"' in card.text and "hx-trigger" not in card.text  # stops polling
    assert "data-accepted>4<" in card.text and "data-rejected>3<" in card.text
    for reason in ("invalid_number", "duplicate_in_file", "missing_phone"):
        assert f'<span class="tag">{reason}</span>' in card.text
    assert f'href="/ui/imports/{body["id"]}/errors.csv"' in card.text
    async with browser.http.get(f"/ui/imports/{body['id']}/errors.csv") as resp:
        assert resp.status == 200 and resp.content_type == "text/csv"
        assert "attachment" in resp.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert [(r["row"], r["reason"]) for r in rows] == [
        ("6", "invalid_number"), ("7", "duplicate_in_file"), ("8", "missing_phone"),
    ]  # fmt: skip
    page = await browser.get(f"/ui/campaigns/{cid}/lists")
    assert "Spring list" in page.text and f'id="import-{body["id"]}"' in page.text
    leads = await console.pool.fetchval("SELECT count(*) FROM leads WHERE campaign_id = $1", cid)
    assert leads == 4


async def test_a_running_import_card_keeps_polling(console: Console) -> None:
    cid = await console.campaign("queued one")
    async with console.pool.acquire() as conn:
        import_id = await conn.fetchval(
            "INSERT INTO imports (kind, client_id, campaign_id, name, state, bytes_total,"
            " bytes_read, rows_read, started_at, created_at, updated_at)"
            " VALUES ('leads', 1, $1, 'big.csv', 'running', 1000, 250, 500, $2, $2, $3)"
            " RETURNING id",
            cid,
            console.clock.now(),
            console.clock.now().replace(second=10),
        )
    browser = await console.signed_in("viewer")
    card = await browser.get(f"/ui/imports/{import_id}", headers={"HX-Request": "true"})
    assert f'hx-get="/ui/imports/{import_id}"' in card.text and 'hx-trigger="every 1s"' in card.text
    assert 'value="25.0"' in card.text  # a quarter of the bytes read
    assert "50" in card.text and "30 s" in card.text  # 50 rows/s, 30 s left


async def test_upload_errors_name_their_field_and_keep_nothing(console: Console) -> None:
    cid = await console.campaign("bad files")
    browser = await console.signed_in("manager")
    await browser.get(f"/ui/campaigns/{cid}/lists")
    status, body = await _upload(
        browser, f"/ui/campaigns/{cid}/lists", b"name,city\nAna,Paris\n", csrf=browser.csrf
    )
    assert status == 400 and "phone" in body["error"]
    status, body = await _upload(
        browser, f"/ui/campaigns/{cid}/lists", CSV_TEXT.encode(), csrf=browser.csrf,
        default_region="Atlantis",
    )  # fmt: skip
    assert status == 400 and body["field"] == "default_region"
    assert not await console.pool.fetchval("SELECT 1 FROM imports WHERE campaign_id = $1", cid)


async def test_upload_needs_the_csrf_header_and_write_rights(console: Console) -> None:
    cid = await console.campaign("csrf uploads")
    manager = await console.signed_in("manager")
    await manager.get(f"/ui/campaigns/{cid}/lists")
    for token in (None, "stale"):
        status, text = await _upload(manager, f"/ui/campaigns/{cid}/lists", b"x", csrf=token)
        assert status == 403 and "Request refused" in text
    # A form field is not enough for a streamed upload: the header is required.
    async with manager.http.post(
        f"/ui/campaigns/{cid}/lists", data={"_csrf": manager.csrf, "file": CSV_TEXT}
    ) as resp:
        assert resp.status == 403
    viewer = await console.signed_in("viewer")
    page = await viewer.get(f"/ui/campaigns/{cid}/lists")
    assert page.status == 200 and "data-upload" not in page.text
    status, _ = await _upload(viewer, f"/ui/campaigns/{cid}/lists", b"x", csrf=viewer.csrf)
    assert status == 403
    assert not await console.pool.fetchval("SELECT 1 FROM imports WHERE campaign_id = $1", cid)


async def test_another_clients_campaign_and_import_are_not_found(console: Console) -> None:
    async with console.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('Lists Co') RETURNING id")
    theirs = await console.campaign("their lists", client_id=other)
    owner = await console.signed_in("manager")
    await owner.get(f"/ui/campaigns/{theirs}/lists")
    status, body = await _upload(
        owner, f"/ui/campaigns/{theirs}/lists", CSV_TEXT.encode(), csrf=owner.csrf
    )
    assert status == 202
    await _idle(console)
    token = await console.token("manager", name="lists-scoped", client_id=1)
    scoped = console.browser()
    await scoped.sign_in(token)
    await scoped.get("/ui/campaigns")
    for path in (
        f"/ui/campaigns/{theirs}/lists",
        f"/ui/imports/{body['id']}",
        f"/ui/imports/{body['id']}/errors.csv",
    ):
        resp = await scoped.get(path)
        assert resp.status == 404 and "does not exist" in resp.text, path
    status, answer = await _upload(
        scoped, f"/ui/campaigns/{theirs}/lists", CSV_TEXT.encode(), csrf=scoped.csrf
    )
    assert status == 404 and "does not exist" in answer["error"]
