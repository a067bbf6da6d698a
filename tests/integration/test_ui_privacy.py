"""The console's privacy forms over real HTTP: erasing needs the session's CSRF token and a
manager or admin; another client's lead is not found; a bad retention is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.integration.test_import_support import make_client
from tests.integration.test_ui_sessions import Console, open_console


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with open_console(pool, tmp_path_factory.mktemp("ui-privacy")) as helper:
        yield helper


async def _lead(console: Console, client_id: int, phone: str) -> int:
    campaign = await console.campaign(f"privacy {phone}", client_id=client_id)
    lead_id: int = await console.pool.fetchval(
        "INSERT INTO leads (campaign_id, phone_e164, fields) VALUES ($1, $2, $3) RETURNING id",
        campaign,
        phone,
        {"name": "Tamsin Ockenden"},
    )
    return lead_id


async def test_erase_needs_csrf_and_the_right_role_and_client(console: Console) -> None:
    lead_id = await _lead(console, 1, "+14155550161")
    manager = await console.signed_in("manager")
    page = await manager.get(f"/ui/leads/{lead_id}")
    assert page.status == 200 and 'id="lead-erase"' in page.text
    assert (await manager.post(f"/ui/leads/{lead_id}/erase", {})).status == 403  # no CSRF
    viewer = await console.signed_in("viewer")
    page = await viewer.get(f"/ui/leads/{lead_id}")
    assert 'id="lead-erase"' not in page.text
    assert (await viewer.submit(f"/ui/leads/{lead_id}/erase")).status == 403
    other = await make_client(console.pool)
    console.tokens["other"] = await console.token("manager", name="other", client_id=other)
    stranger = await console.signed_in("other")
    await stranger.get("/ui/leads")
    assert (await stranger.submit(f"/ui/leads/{lead_id}/erase")).status == 404
    status = await console.pool.fetchval("SELECT status FROM leads WHERE id = $1", lead_id)
    assert status == "new"

    await manager.get(f"/ui/leads/{lead_id}")
    resp = await manager.submit(f"/ui/leads/{lead_id}/erase", {"suppress": "on"})
    assert resp.status == 303 and resp.location == "/ui/leads"
    page = await manager.get("/ui/leads")
    assert f"Lead #{lead_id} erased" in page.text and "4155550161" not in page.text
    row = await console.pool.fetchrow("SELECT status, fields FROM leads WHERE id = $1", lead_id)
    assert row["status"] == "erased" and row["fields"] == {}


async def test_retention_form_refuses_bad_days(console: Console) -> None:
    manager = await console.signed_in("manager")
    page = await manager.get("/ui/leads")
    assert 'id="retention-1"' in page.text
    resp = await manager.submit(
        "/ui/privacy/retention", {"client_id": "1", "lead_retention_days": "0"}
    )
    assert resp.status == 303
    page = await manager.get("/ui/leads")
    assert "Lead_retention_days must be" in page.text or "lead_retention_days must" in page.text
    await manager.submit("/ui/privacy/retention", {"client_id": "1", "lead_retention_days": ""})
    assert (
        await console.pool.fetchval("SELECT lead_retention_days FROM clients WHERE id = 1") is None
    )
