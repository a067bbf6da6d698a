"""Agent scripts: saved only when safe, rendered in a sandbox, lead fields and the script's
own markup shown as text, previewable against a lead, shown at screen pop."""

from __future__ import annotations

import pytest

from dialer.http.agentstream import call_message
from tests.integration.conftest import Api
from tests.integration.engine_support import add_leads, make_campaign


async def _campaign_and_lead(api: Api, first_name: str) -> tuple[int, int]:
    now = api.clock.now()
    async with api.pool.acquire() as conn:
        campaign = await make_campaign(conn, now)
        [lead_id] = await add_leads(conn, campaign["id"], ["+14155553001"], now)
        await conn.execute(
            "UPDATE leads SET fields = $2 WHERE id = $1", lead_id, {"first_name": first_name}
        )
    return campaign["id"], lead_id


async def test_script_round_trip_and_preview_escapes_a_lead_field(api: Api) -> None:
    cid, lead = await _campaign_and_lead(api, "<script>alert(1)</script>")
    body = "Hello {{ lead.first_name }}, <b>this</b> is {{ lead.company }}.\nCall {{ lead.phone }}"
    status, saved = await api.call(
        "PUT", f"/api/v1/campaigns/{cid}/script", json={"body": body}, as_="manager"
    )
    assert status == 200 and saved["body"] == body
    assert (await api.call("GET", f"/api/v1/campaigns/{cid}/script"))[1]["body"] == body
    status, shown = await api.call(
        "POST", f"/api/v1/campaigns/{cid}/script/preview", json={"lead_id": lead}
    )
    assert status == 200
    assert shown["html"] == (
        "Hello &lt;script&gt;alert(1)&lt;/script&gt;, &lt;b&gt;this&lt;/b&gt; is .<br>"
        "Call +14155553001"
    )
    assert "<script" not in shown["html"] and "<b>" not in shown["html"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{{ ''.__class__ }}", "may only use the lead's fields"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "may only use the lead's fields"),
        ("{{ lead.first_name", "cannot be read (line 1)"),
        ("x" * 20_001, "at most 20000"),
    ],
)
async def test_unsafe_or_broken_scripts_are_a_400(api: Api, body: str, words: str) -> None:
    cid, _ = await _campaign_and_lead(api, "Ann")
    status, answer = await api.call("PUT", f"/api/v1/campaigns/{cid}/script", json={"body": body})
    assert status == 400 and answer["field"] == "body" and words in answer["error"]
    assert (await api.call("GET", f"/api/v1/campaigns/{cid}/script"))[1]["body"] == ""


async def test_preview_of_another_campaigns_lead_is_404(api: Api) -> None:
    cid, _ = await _campaign_and_lead(api, "Ann")
    _, other_lead = await _campaign_and_lead(api, "Bob")
    status, _ = await api.call(
        "POST", f"/api/v1/campaigns/{cid}/script/preview", json={"lead_id": other_lead}
    )
    assert status == 404
    status, body = await api.call(
        "POST", f"/api/v1/campaigns/{cid}/script/preview", json={"lead_id": "x"}
    )
    assert status == 400 and body["field"] == "lead_id"


async def test_the_screen_pop_carries_the_rendered_script(api: Api) -> None:
    cid, lead = await _campaign_and_lead(api, "Zoë")
    await api.call(
        "PUT", f"/api/v1/campaigns/{cid}/script", json={"body": "Hi {{ lead.first_name }}"}
    )
    async with api.pool.acquire() as conn:
        row = dict(await conn.fetchrow("SELECT * FROM leads WHERE id = $1", lead))
        message = await call_message(conn, 1, row)
    assert message["script"] == "Hi Zoë"
    assert message["dispositions"][0]["code"] == "sale"
