"""Campaign opt-out settings over the API: defaults, changes, refusals naming the field, and
the OpenAPI document describing them."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api

BASE = {"name": "opt-out", "purpose": "telemarketing", "caller_id": "+14155550100"}


async def test_defaults_offer_the_opt_out_where_required_on_key_9(api: Api) -> None:
    status, c = await api.call("POST", "/api/v1/campaigns", json=BASE)
    assert status == 201, c
    assert (c["opt_out"], c["opt_out_key"], c["opt_out_prompt"]) == ("where_required", "9", None)
    body = {"opt_out": "always", "opt_out_key": "#", "opt_out_prompt": "sound:acme/stop"}
    status, changed = await api.call("PATCH", f"/api/v1/campaigns/{c['id']}", json=body)
    assert status == 200, changed
    assert {k: changed[k] for k in body} == body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("opt_out", "off"),  # a required opt-out cannot be turned off: there is no "off"
        ("opt_out_key", "99"),
        ("opt_out_key", 9),
        ("opt_out_prompt", ""),
    ],
)
async def test_bad_opt_out_settings_are_refused_naming_the_field(
    api: Api, field: str, value: object
) -> None:
    status, body = await api.call(
        "POST", "/api/v1/campaigns", json={**BASE, "name": f"bad {field}", field: value}
    )
    assert status == 400 and body["field"] == field, body


async def test_openapi_describes_the_opt_out_fields(api: Api) -> None:
    status, doc = await api.call("GET", "/api/v1/openapi.json")
    assert status == 200
    text = str(doc)
    assert "opt_out_key" in text and "where_required" in text and "dnc.added" in text
