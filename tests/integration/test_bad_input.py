"""Malformed input gets a 400 (or 404) JSON answer naming the field, never a 500: numbers
that are not finite or do not fit, ids past bigint, NUL bytes and lone surrogates, deep
nesting, dates outside the years the service stores. Stored values never make a response
invalid JSON."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from tests.integration.conftest import Api

BASE = {"name": "bad input", "caller_id": "+14155550100", "dial_mode": "power"}


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"invalid JSON token {name}")

    return json.loads(text, parse_constant=refuse)


async def _raw(api: Api, method: str, path: str, body: str | bytes) -> tuple[int, Any]:
    resp = await api.client.request(
        method,
        path,
        data=body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body,
        headers={
            "Authorization": f"Bearer {api.tokens['admin']}",
            "Content-Type": "application/json",
        },
    )
    return resp.status, _strict(await resp.text())


@pytest.fixture(scope="module")
async def campaign(api: Api) -> dict[str, Any]:
    status, body = await api.call("POST", "/api/v1/campaigns", json=BASE)
    assert status == 201, body
    return body


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"dial_level": NaN}', "body"),
        ('{"dial_level": Infinity}', "body"),
        ('{"dial_level": -Infinity}', "body"),
        ('{"dial_level": 1e999}', "dial_level"),
        ('{"max_attempts": 99999999999999999999}', "max_attempts"),
        ('{"retry_policy": {"busy": 1e400}}', "retry_policy.busy"),
        ('{"name": "a\\u0000"}', "name"),
        ('{"name": "a\\ud800"}', "name"),
        ('{"safe_harbor_message": "\\udfff alone"}', "safe_harbor_message"),
        ('{"starts_at": "0001-01-01T00:00:00+01:00"}', "starts_at"),
        ('{"ends_at": "9999-12-31T23:00:00-05:00"}', "ends_at"),
    ],
)
async def test_patch_with_unusable_values_is_400_naming_the_field(
    api: Api, campaign: dict[str, Any], text: str, field: str
) -> None:
    status, body = await _raw(api, "PATCH", f"/api/v1/campaigns/{campaign['id']}", text)
    assert status == 400, body
    assert body["field"] == field
    status, after = await api.call("GET", f"/api/v1/campaigns/{campaign['id']}")
    assert after == campaign  # nothing changed


async def test_create_with_nan_dial_level_is_refused(api: Api) -> None:
    status, body = await _raw(api, "POST", "/api/v1/campaigns", '{"name": "n", "dial_level": NaN}')
    assert status == 400 and body["field"] == "body"


async def test_the_console_form_refuses_nan_through_the_same_model(api: Api) -> None:
    from dialer.campaigns import model
    from dialer.errors import ValidationError
    from dialer.ui.campaign_form import body_from_form

    body, errors = body_from_form(
        {"name": "form", "purpose": "survey", "dial_mode": "power", "dial_level": "nan"},
        may_waive=False,
        choose_client=False,
    )
    assert not errors
    with pytest.raises(ValidationError) as caught:
        model.parse_campaign(body, partial=False)
    assert caught.value.field == "dial_level"


@pytest.mark.parametrize("depth", [40, 100_000])
async def test_deep_nesting_is_400(api: Api, depth: int) -> None:
    status, body = await _raw(api, "POST", "/api/v1/campaigns", "[" * depth + "]" * depth)
    assert status == 400 and body["field"] == "body"
    status, body = await _raw(api, "POST", "/api/v1/campaigns", "[" * depth)
    assert status == 400 and body["field"] == "body"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/campaigns/99999999999999999999",
        "/api/v1/campaigns/9223372036854775808",
        "/api/v1/campaigns/9223372036854775808/stats",
        "/api/v1/imports/99999999999999999999",
        "/api/v1/webhooks/99999999999999999999",
        "/api/v1/clients/99999999999999999999",
        "/api/v1/agents/99999999999999999999",
    ],
)
async def test_ids_beyond_bigint_are_404(api: Api, path: str) -> None:
    resp = await api.client.get(path, headers={"Authorization": f"Bearer {api.tokens['admin']}"})
    assert resp.status == 404
    assert "error" in _strict(await resp.text())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=99999999999999999999", "after"),
        ("limit=99999999999999999999", "limit"),
        ("state=%00", "state"),
    ],
)
async def test_queries_out_of_range_are_400(api: Api, query: str, field: str) -> None:
    status, body = await api.call("GET", f"/api/v1/campaigns?{query}")
    assert status == 400 and body["field"] == field


async def test_a_nul_in_a_query_value_is_400(api: Api) -> None:
    status, body = await api.call("GET", "/api/v1/dnc?phone=%2B1415%00")
    assert status == 400 and body["field"] == "phone"


async def test_export_with_extreme_from_is_400_before_streaming(
    api: Api, campaign: dict[str, Any]
) -> None:
    for value in ("0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-01:00"):
        status, body = await api.call(
            "GET", f"/api/v1/campaigns/{campaign['id']}/attempts.csv?from={value}"
        )
        assert status == 400 and body["field"] == "from"


async def test_webhook_secret_with_nul_is_refused(api: Api) -> None:
    status, body = await api.call(
        "POST",
        "/api/v1/webhooks",
        json={"url": "https://crm.example.com/hook", "secret": "a" * 20 + "\x00" + "b" * 20},
    )
    assert status == 400 and body["field"] == "secret"


async def test_a_nan_dial_level_cannot_be_stored_any_more(api: Api) -> None:
    """Before the input checks a NaN reached the table (and broke every campaign list's
    JSON); migration 0016 cleaned such values and bounds the column. The JSON writer still
    sends any non-finite number as null (tests/unit/test_jsonio.py)."""
    status, body = await api.call("POST", "/api/v1/campaigns", json={**BASE, "name": "stored"})
    assert status == 201
    with pytest.raises(asyncpg.CheckViolationError):
        await api.pool.execute("UPDATE campaigns SET dial_level = 'NaN' WHERE id = $1", body["id"])
    resp = await api.client.get(
        "/api/v1/campaigns?limit=500", headers={"Authorization": f"Bearer {api.tokens['admin']}"}
    )
    assert resp.status == 200
    items = {c["id"]: c for c in _strict(await resp.text())["items"]}
    assert items[body["id"]]["dial_level"] == BASE.get("dial_level", 2.0)


async def test_deep_nesting_with_an_idempotency_key_is_400(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/campaigns",
        data="[" * 100_000,
        headers={
            "Authorization": f"Bearer {api.tokens['admin']}",
            "Content-Type": "application/json",
            "Idempotency-Key": "deep-1",
        },
    )
    assert resp.status == 400
    assert _strict(await resp.text())["field"] == "body"


async def test_a_console_path_id_beyond_bigint_is_404(api: Api) -> None:
    resp = await api.client.get("/ui/campaigns/99999999999999999999", allow_redirects=False)
    assert resp.status == 404
