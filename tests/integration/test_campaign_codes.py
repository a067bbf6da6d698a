"""A campaign's own dispositions and pause codes: defaults, replacing them, 400s that list
what is allowed, the retry plan following the action, pausing with a code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dialer.campaigns.codes import DEFAULT_DISPOSITIONS, DEFAULT_PAUSE_CODES
from tests.integration.conftest import Api
from tests.integration.engine_support import make_campaign
from tests.integration.test_engine_dispositions import _connected_call, _lead

COLLECTIONS = [
    {"code": "PTP", "label": "Promise to pay", "action": "callback", "retry_after_s": 7200,
     "hotkey": "1"},
    {"code": "WRONG_PARTY", "label": "Wrong party", "action": "retry", "retry_after_s": 600,
     "max_attempts": 5, "hotkey": "2"},
    {"code": "REFUSED", "label": "Refused to pay", "action": "complete", "hotkey": "3"},
    {"code": "STOP", "label": "Stop calling", "action": "dnc"},
]  # fmt: skip


async def _campaign(api: Api) -> int:
    async with api.pool.acquire() as conn:
        return int((await make_campaign(conn, api.clock.now()))["id"])


async def test_a_campaign_without_its_own_uses_the_defaults(api: Api) -> None:
    cid = await _campaign(api)
    status, body = await api.call("GET", f"/api/v1/campaigns/{cid}/dispositions")
    assert status == 200 and body["default"] is True
    assert [d["code"] for d in body["items"]] == [d.code for d in DEFAULT_DISPOSITIONS]
    status, body = await api.call("GET", f"/api/v1/campaigns/{cid}/pause-codes", as_="viewer")
    assert status == 200 and len(body["items"]) == len(DEFAULT_PAUSE_CODES)


async def test_put_replaces_them_and_get_reads_them_back(api: Api) -> None:
    cid = await _campaign(api)
    status, body = await api.call(
        "PUT", f"/api/v1/campaigns/{cid}/dispositions", json={"items": COLLECTIONS},
        as_="manager",
    )  # fmt: skip
    assert status == 200 and body["default"] is False
    status, body = await api.call("GET", f"/api/v1/campaigns/{cid}/dispositions")
    assert [d["code"] for d in body["items"]] == ["PTP", "WRONG_PARTY", "REFUSED", "STOP"]
    assert body["items"][1] == COLLECTIONS[1]
    status, _ = await api.call(
        "PUT", f"/api/v1/campaigns/{cid}/dispositions", json={"items": COLLECTIONS},
        as_="viewer",
    )  # fmt: skip
    assert status == 403


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ([{"code": "A", "label": "A", "action": "explode"}], "items[0].action"),
        ([{"code": "a b", "label": "A", "action": "complete"}], "items[0].code"),
        ([{"code": "A", "label": "A", "action": "complete"},
          {"code": "a", "label": "B", "action": "complete"}], "items[1].code"),
        ([{"code": "A", "label": "A", "action": "complete", "hotkey": "1"},
          {"code": "B", "label": "B", "action": "complete", "hotkey": "1"}], "items[1].hotkey"),
        ([{"code": "A", "label": "A", "action": "retry", "retry_after_s": 5}],
         "items[0].retry_after_s"),
        ([{"code": "A", "label": "", "action": "complete"}], "items[0].label"),
        ([{"code": "A", "label": "A", "action": "complete", "colour": "red"}],
         "items[0].colour"),
    ],
)  # fmt: skip
async def test_bad_dispositions_are_a_400_naming_the_item(
    api: Api, items: list[Any], field: str
) -> None:
    cid = await _campaign(api)
    status, body = await api.call(
        "PUT", f"/api/v1/campaigns/{cid}/dispositions", json={"items": items}
    )
    assert status == 400 and body["field"] == field
    status, body = await api.call("GET", f"/api/v1/campaigns/{cid}/dispositions")
    assert body["default"] is True  # nothing stored


async def _with_codes(api: Api, phone: str) -> dict[str, Any]:
    c = await _connected_call(api, phone=phone)
    status, _ = await api.call(
        "PUT", f"/api/v1/campaigns/{c['campaign']}/dispositions", json={"items": COLLECTIONS}
    )
    assert status == 200
    return c


async def _dispose(api: Api, c: dict[str, Any], code: str) -> tuple[int, Any]:
    return await api.call(
        "POST", f"/api/v1/calls/{c['call']}/disposition", as_=c["token"],
        json={"disposition": code},
    )  # fmt: skip


async def test_an_unknown_code_is_a_400_listing_the_allowed_ones(api: Api) -> None:
    c = await _with_codes(api, "+14155552001")
    status, body = await _dispose(api, c, "sale")
    assert status == 400 and body["field"] == "disposition"
    assert "PTP, WRONG_PARTY, REFUSED, STOP" in body["error"]
    assert (await _lead(api, c["lead"]))["last_disposition"] is None  # nothing changed


async def test_the_retry_plan_follows_the_disposition_action(api: Api) -> None:
    now = api.clock.now()
    c = await _with_codes(api, "+14155552002")
    assert (await _dispose(api, c, "WRONG_PARTY"))[0] == 200
    lead = await _lead(api, c["lead"])
    assert lead["status"] == "retry" and lead["next_attempt_at"] == now + timedelta(seconds=600)
    c = await _with_codes(api, "+14155552003")
    assert (await _dispose(api, c, "PTP"))[0] == 200
    lead = await _lead(api, c["lead"])
    assert lead["status"] == "callback" and lead["next_attempt_at"] == now + timedelta(hours=2)
    assert lead["callback_agent_id"] == c["agent"]
    c = await _with_codes(api, "+14155552004")
    assert (await _dispose(api, c, "REFUSED"))[0] == 200
    assert (await _lead(api, c["lead"]))["status"] == "completed"
    c = await _with_codes(api, "+14155552005")
    assert (await _dispose(api, c, "STOP"))[0] == 200
    assert (await _lead(api, c["lead"]))["status"] == "dnc"
    listed = await api.pool.fetchval(
        "SELECT count(*) FROM dnc_entries WHERE phone_e164 = '+14155552005'"
    )
    assert listed == 1


async def test_pausing_needs_one_of_the_campaigns_pause_codes(api: Api) -> None:
    c = await _connected_call(api, phone="+14155552010")
    codes = {"items": [{"code": "BIO", "label": "Bio break", "paid": True},
                       {"code": "QA", "label": "Quality review"}]}  # fmt: skip
    status, body = await api.call(
        "PUT", f"/api/v1/campaigns/{c['campaign']}/pause-codes", json=codes
    )
    assert status == 200 and body["items"][1]["paid"] is False
    path = f"/api/v1/agents/{c['agent']}/pause"
    status, body = await api.call("POST", path, as_=c["token"], json={"reason": "lunch"})
    assert status == 400 and body["field"] == "reason" and "BIO, QA" in body["error"]
    status, body = await api.call("POST", path, as_=c["token"], json={"reason": "BIO"})
    assert status == 200 and body["pending_action"] == "pause"


async def test_another_clients_campaign_is_404(api: Api) -> None:
    cid = await _campaign(api)
    async with api.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('Codes Co') RETURNING id")
    token = await api.token("manager", client_id=other, name="codes-co")
    status, _ = await api.call("GET", f"/api/v1/campaigns/{cid}/dispositions", as_=token)
    assert status == 404


async def test_console_page_saves_dispositions_and_reports_a_bad_row(
    api: Api, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.integration.test_ui_sessions import open_console

    cid = await _campaign(api)
    async with open_console(api.pool, tmp_path_factory.mktemp("floor")) as console:
        browser = await console.signed_in("manager")
        page = await browser.get(f"/ui/campaigns/{cid}/floor")
        assert page.status == 200 and 'value="not_interested"' in page.text
        bad = await browser.submit(
            f"/ui/campaigns/{cid}/floor/dispositions",
            {"d-0-code": "PTP", "d-0-label": "Promise", "d-0-action": "callback",
             "d-0-retry_after_s": "soon"},
        )  # fmt: skip
        assert bad.status == 400 and "Row 1: retry_after_s must be a whole number" in bad.text
        assert 'value="soon"' in bad.text
        good = await browser.submit(
            f"/ui/campaigns/{cid}/floor/dispositions",
            {"d-0-code": "PTP", "d-0-label": "Promise", "d-0-action": "callback",
             "d-0-retry_after_s": "3600", "d-0-hotkey": "p", "d-1-code": ""},
        )  # fmt: skip
        assert good.status == 303
        saved = await browser.submit(
            f"/ui/campaigns/{cid}/floor/pauses",
            {"p-0-code": "BIO", "p-0-label": "Bio", "p-0-paid": "on"},
        )
        assert saved.status == 303
    _, body = await api.call("GET", f"/api/v1/campaigns/{cid}/dispositions")
    want = {"code": "PTP", "label": "Promise", "action": "callback", "retry_after_s": 3600}
    assert body["items"] == [want | {"max_attempts": None, "hotkey": "p"}]
    _, body = await api.call("GET", f"/api/v1/campaigns/{cid}/pause-codes")
    assert body["items"] == [{"code": "BIO", "label": "Bio", "paid": True}]
