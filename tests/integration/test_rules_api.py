"""Calling-rule decisions over HTTP: the same answer as `dialer check`, clear 400s."""

from __future__ import annotations

from tests.integration.conftest import Api


async def test_check_blocks_florida_after_20h_and_says_when(api: Api) -> None:
    status, body = await api.call(
        "GET",
        "/api/v1/rules/check?phone=%2B13055550142&purpose=telemarketing&at=2026-12-07T01:30:00Z",
        as_="viewer",
    )
    assert status == 200
    assert body["allowed"] is False
    assert "us-fl.hours" in body["rule_ids"]
    assert body["next_allowed_at"] == "2026-12-07T13:00:00Z"
    assert body["local_times"]["America/New_York"].startswith("2026-12-06T20:30")


async def test_check_allows_inside_every_window(api: Api) -> None:
    status, body = await api.call(
        "GET",
        "/api/v1/rules/check?phone=020%207946%200958&region=GB&purpose=survey"
        "&at=2026-12-07T11:00:00Z",
        as_="crm",
    )
    assert status == 200 and body["allowed"] is True and body["reasons"] == []


async def test_check_defaults_to_now_from_the_injected_clock(api: Api) -> None:
    status, body = await api.call(
        "GET", "/api/v1/rules/check?phone=%2B14155550100&purpose=survey", as_="viewer"
    )
    assert status == 200 and body["at"].startswith(api.clock.now().strftime("%Y-%m-%dT%H:%M"))


async def test_bad_input_names_the_field(api: Api) -> None:
    cases = [
        ("phone=12&purpose=survey", "phone"),
        ("purpose=survey", "phone"),
        ("phone=%2B14155550100&purpose=spam", "purpose"),
        ("phone=%2B14155550100&purpose=survey&at=yesterday", "at"),
        ("phone=%2B14155550100&purpose=survey&at=2026-12-07T01:30:00", "at"),
        ("phone=4155550100&region=ZZ&purpose=survey", "region"),
    ]
    for query, field in cases:
        status, body = await api.call("GET", f"/api/v1/rules/check?{query}", as_="viewer")
        assert (status, body.get("field")) == (400, field), query


async def test_a_national_number_without_region_says_what_to_set(api: Api) -> None:
    status, body = await api.call(
        "GET", "/api/v1/rules/check?phone=020%207946%200958&purpose=survey", as_="viewer"
    )
    assert (status, body["field"]) == (400, "region")
    assert body["error"].startswith("no country code") and "Missing or invalid" not in body["error"]


async def test_packs_are_listed_with_sources(api: Api) -> None:
    status, body = await api.call("GET", "/api/v1/rules", as_="viewer")
    assert status == 200
    packs = {p["id"]: p for p in body["items"]}
    assert {"us", "us-fl", "fr", "au", "gb", "in", "default"} <= set(packs)
    assert all(rule["source"] for p in packs.values() for rule in p["rules"])
