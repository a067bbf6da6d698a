"""Caller-ID pools over the API: replace and read the pool, ask which number a call would
present and why (local presence, daily cap, rotation), retire a number; bad input."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.conftest import Api

MIAMI, TAMPA, SF, NYC = "+13055550100", "+18135550100", "+14155550100", "+12125550100"


async def _campaign(api: Api) -> int:
    body = {
        "name": f"pool-{time.monotonic_ns()}",
        "caller_id": "+16505550100",
        "dial_mode": "progressive",
    }
    status, c = await api.call("POST", "/api/v1/campaigns", json=body)
    assert status == 201, c
    return int(c["id"])


async def _put(api: Api, cid: int, **body: Any) -> dict[str, Any]:
    status, got = await api.call("PUT", f"/api/v1/campaigns/{cid}/caller-ids", json=body)
    assert status == 200, got
    return got


async def _pick(api: Api, cid: int, phone: str) -> dict[str, Any]:
    status, got = await api.call(
        "GET", f"/api/v1/campaigns/{cid}/caller-ids/pick?phone={phone.replace('+', '%2B')}"
    )
    assert status == 200, got
    return got


async def test_local_presence_picks_the_nearest_number_and_says_why(api: Api) -> None:
    cid = await _campaign(api)
    assert (await _pick(api, cid, "+13055559999"))["caller_id"] == "+16505550100"  # no pool
    items = [{"number": n} for n in (MIAMI, TAMPA, SF)]
    pool = await _put(api, cid, items=items, local_presence=True, daily_cap=300)
    assert [i["number"] for i in pool["items"]] == [MIAMI, TAMPA, SF]
    assert pool["local_presence"] is True and pool["daily_cap"] == 300

    same_area = await _pick(api, cid, "+13055559999")
    assert same_area["caller_id"] == MIAMI
    assert same_area["reason"].startswith("local presence: same area code 305")
    same_state = await _pick(api, cid, "+19545559999")  # Fort Lauderdale, FL
    assert same_state["caller_id"] == MIAMI and "same state FL" in same_state["reason"]
    same_country = await _pick(api, cid, "+12065559999")  # Seattle: no WA number
    assert same_country["caller_id"] == MIAMI and "same country US" in same_country["reason"]
    abroad = await _pick(api, cid, "+442079460000")
    assert "no number near the callee" in abroad["reason"]


async def test_retired_numbers_are_never_picked_and_the_change_is_audited(api: Api) -> None:
    cid = await _campaign(api)
    await _put(api, cid, items=[{"number": MIAMI}, {"number": NYC}], local_presence=True)
    pool = await _put(
        api, cid, items=[{"number": MIAMI, "retired": True}, {"number": NYC}], local_presence=True
    )
    assert pool["items"][0]["retired"] is True and pool["items"][0]["retired_at"]
    got = await _pick(api, cid, "+13055559999")
    assert got["caller_id"] == NYC and "same country US" in got["reason"]
    status, audit = await api.call("GET", f"/api/v1/campaigns/{cid}/caller-ids", as_="viewer")
    assert status == 200 and audit["items"][1]["number"] == NYC


async def test_bad_pools_are_refused_with_the_field(api: Api) -> None:
    cid = await _campaign(api)
    cases = [
        ({"items": [{"number": "305 555"}]}, "items[0].number"),
        ({"items": [{"number": MIAMI}, {"number": MIAMI}]}, "items[1].number"),
        ({"items": [{"number": MIAMI, "retired": "yes"}]}, "items[0].retired"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"local_presence": "on"}, "local_presence"),
        ({"colour": "red"}, "colour"),
    ]
    for body, field in cases:
        status, err = await api.call("PUT", f"/api/v1/campaigns/{cid}/caller-ids", json=body)
        assert status in (400, 422), (body, err)
        assert err.get("field") == field or field in str(err), (body, err)
    status, err = await api.call("GET", f"/api/v1/campaigns/{cid}/caller-ids/pick?phone=nope")
    assert status in (400, 422) and "phone" in str(err)
    status, _ = await api.call("GET", "/api/v1/campaigns/999999/caller-ids")
    assert status == 404
    status, _ = await api.call(
        "PUT", f"/api/v1/campaigns/{cid}/caller-ids", json={"items": []}, as_="viewer"
    )
    assert status == 403
