"""Console pages over real HTTP and PostgreSQL: the campaign forms and buttons, calling rules.

The forms must end in exactly what the API would store, and show the API's validation
errors next to the input they concern.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dialer.ui.campaign_form import body_from_form, parse_duration, parse_hours
from dialer.ui.filters import abandon_class
from tests.integration.test_ui_sessions import Console, open_console

FORM = {
    "name": "Spring renewals",
    "purpose": "telemarketing",
    "dial_mode": "predictive",
    "caller_id": "+1 415 555 0100",
    "default_region": "us",
    "max_abandon_rate": "2.5",
    "max_attempts": "4",
    "dial_level": "2",
    "ring_timeout_s": "25",
    "abandon_timeout_s": "2",
    "amd": "on",
    "retry_policy.busy": "10m",
    "schedule.mon": "9-12, 13:00-17:30",
    "schedule.sat": "10:00-14:00",
}


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with open_console(pool, tmp_path_factory.mktemp("ui-pages")) as helper:
        yield helper


def _error_for(page: str, name: str) -> str | None:
    """The message shown under the input ``name`` (None: no error there)."""
    found = re.search(
        rf'<p class="field-error" id="e-{re.escape(name.replace(".", "-"))}">.*?<span>(.*?)</span>',
        page,
        re.S,
    )
    return html.unescape(found.group(1)) if found else None


def _value_of(page: str, name: str) -> str | None:
    found = re.search(rf'name="{re.escape(name)}" type="[^"]+" value="([^"]*)"', page)
    return found.group(1) if found else None


# ---- form conversions (pure) ----------------------------------------------------------------


def test_durations_and_hours_read_the_way_people_write_them() -> None:
    assert [parse_duration(t) for t in ("15m", "2 h", "3d", "90s", "45")] == [
        900,
        7200,
        259200,
        90,
        2700,
    ]
    assert parse_hours("9-12, 13:00 \u2013 17:30", "mon") == [
        ["09:00", "12:00"],
        ["13:00", "17:30"],
    ]
    with pytest.raises(ValueError, match="not before end"):
        parse_hours("17:00-09:00", "mon")
    with pytest.raises(ValueError, match="like 09:00-17:00"):
        parse_hours("nine to five", "mon")


def test_empty_optional_inputs_become_null_not_empty_strings() -> None:
    body, errors = body_from_form({"name": "x"}, may_waive=False, choose_client=False)
    assert errors == {}
    assert body["caller_id"] is None and body["max_lines"] is None and body["schedule"] is None
    assert "waived_rules" not in body and "client_id" not in body  # not this principal's to set


def test_abandon_rate_turns_red_from_two_and_a_half_percent() -> None:
    assert abandon_class(0.025) == abandon_class(0.031) == "is-over"
    assert abandon_class(0.0249) == abandon_class(None) == ""


# ---- campaign forms -----------------------------------------------------------------------


async def test_create_form_stores_what_the_api_would(console: Console) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/campaigns/new")
    resp = await browser.submit("/ui/campaigns/new", FORM)
    row = await console.pool.fetchrow("SELECT * FROM campaigns WHERE name = 'Spring renewals'")
    # Next the new campaign needs a list: its Lead lists tab, not the list below the fold.
    assert resp.status == 303 and resp.location == f"/ui/campaigns/{row['id']}/lists"
    page = await browser.get(resp.location)
    assert "Campaign “Spring renewals” created." in page.text
    assert row["caller_id"] == "+14155550100" and row["default_region"] == "US"
    assert row["max_abandon_rate"] == pytest.approx(0.025) and row["max_attempts"] == 4
    assert row["retry_policy"] == {"busy": 600}
    assert row["schedule"] == {
        "mon": [["09:00", "12:00"], ["13:00", "17:30"]],
        "sat": [["10:00", "14:00"]],
    }
    assert row["state"] == "draft" and row["amd"] is True
    # The flash message is shown once.
    assert "created." not in (await browser.get("/ui/campaigns")).text


async def test_registry_category_is_chosen_and_cleared_on_the_form(console: Console) -> None:
    """India's NCPR: the campaign's category decides which registered preferences let a
    number be called (docs/rule-packs.md); the form sets it and can take it away."""
    browser = await console.signed_in("manager")
    page = await browser.get("/ui/campaigns/new")
    assert '<option value="2">2 · real estate</option>' in page.text
    resp = await browser.submit("/ui/campaigns/new", FORM | {"name": "Flats", "category": "2"})
    assert resp.status == 303
    row = await console.pool.fetchrow("SELECT id, category FROM campaigns WHERE name = 'Flats'")
    assert row["category"] == "2"
    edit = f"/ui/campaigns/{row['id']}/edit"
    assert '<option value="2" selected>' in (await browser.get(edit)).text
    bad = await browser.submit(edit, FORM | {"name": "Flats", "category": "9"})
    assert bad.status == 400 and _error_for(bad.text, "category") is not None
    assert (
        await console.pool.fetchval("SELECT category FROM campaigns WHERE id = $1", row["id"])
        == "2"
    )
    cleared = await browser.submit(edit, FORM | {"name": "Flats", "category": ""})
    assert cleared.status == 303
    assert (
        await console.pool.fetchval("SELECT category FROM campaigns WHERE id = $1", row["id"])
        is None
    )


async def test_errors_sit_next_to_their_field_and_the_input_is_kept(console: Console) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/campaigns/new")
    resp = await browser.submit(
        "/ui/campaigns/new", FORM | {"name": "Bad caller", "caller_id": "555-0100"}
    )
    assert resp.status == 400
    assert _error_for(resp.text, "caller_id") == (
        "Must be a phone number in E.164 form, e.g. +14155550100"
    )
    assert _error_for(resp.text, "name") is None
    assert _value_of(resp.text, "name") == "Bad caller"
    assert _value_of(resp.text, "caller_id") == "555-0100"
    assert _value_of(resp.text, "schedule.mon") == "9-12, 13:00-17:30"
    assert 'aria-invalid="true"' in resp.text
    assert not await console.pool.fetchval("SELECT 1 FROM campaigns WHERE name = 'Bad caller'")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"max_abandon_rate": "3.5"}, "max_abandon_rate", "at most 3 %"),
        ({"retry_policy.busy": "10s"}, "retry_policy.busy", "between 1 minute and 30 days"),
        ({"retry_policy.busy": "soon"}, "retry_policy.busy", "such as 15m, 2h or 3d"),
        ({"schedule.tue": "18:00-08:00"}, "schedule.tue", "Start 18:00 is not before end 08:00"),
        ({"ring_timeout_s": "5"}, "ring_timeout_s", "at least 15"),
        ({"shift.mon": "08:00-20:00"}, "shift.timezone", "Choose the time zone"),
        (
            {"shift.mon": "08:00-20:00", "shift.timezone": "Mars/Olympus"},
            "shift.timezone",
            "IANA time zone",
        ),
        (
            {"starts_at": "2026-03-01T09:00", "ends_at": "2026-02-01T09:00"},
            "ends_at",
            "Must be after starts_at",
        ),
    ],
)
async def test_each_kind_of_mistake_is_explained_in_place(
    console: Console, changes: dict[str, str], field: str, message: str
) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/campaigns/new")
    resp = await browser.submit("/ui/campaigns/new", FORM | {"name": "mistakes"} | changes)
    assert resp.status == 400
    shown = _error_for(resp.text, field)
    assert shown is not None and message in shown, resp.text[:3000]


async def test_edit_shows_stored_values_and_saves_changes(console: Console) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/campaigns/new")
    await browser.submit("/ui/campaigns/new", FORM | {"name": "Edit me"})
    cid = await console.pool.fetchval("SELECT id FROM campaigns WHERE name = 'Edit me'")
    page = await browser.get(f"/ui/campaigns/{cid}/edit")
    assert _value_of(page.text, "max_abandon_rate") == "2.5"
    assert _value_of(page.text, "retry_policy.busy") == "10m"
    assert _value_of(page.text, "schedule.mon") == "09:00-12:00, 13:00-17:00".replace(
        "17:00", "17:30"
    )
    changed = FORM | {
        "name": "Edited",
        "max_attempts": "7",
        "shift.timezone": "Asia/Kolkata",
        "shift.mon": "09:00-18:00",
        "starts_at": "2026-03-01T09:30",
    }
    resp = await browser.submit(f"/ui/campaigns/{cid}/edit", changed)
    assert resp.status == 303
    row = await console.pool.fetchrow("SELECT * FROM campaigns WHERE id = $1", cid)
    assert row["name"] == "Edited" and row["max_attempts"] == 7
    assert row["shift"] == {"timezone": "Asia/Kolkata", "windows": {"mon": [["09:00", "18:00"]]}}
    assert row["starts_at"].isoformat() == "2026-03-01T04:00:00+00:00"  # 09:30 in Kolkata
    page = await browser.get(f"/ui/campaigns/{cid}/edit")
    assert _value_of(page.text, "starts_at") == "2026-03-01T09:30"


async def test_duplicate_name_is_reported_at_the_name(console: Console) -> None:
    browser = await console.signed_in("manager")
    await browser.get("/ui/campaigns/new")
    await browser.submit("/ui/campaigns/new", FORM | {"name": "Twin"})
    await browser.get("/ui/campaigns/new")
    resp = await browser.submit("/ui/campaigns/new", FORM | {"name": "twin"})
    assert resp.status == 400
    assert _error_for(resp.text, "name") == "A campaign named 'twin' already exists"


async def test_only_admins_see_and_use_rule_waivers(console: Console) -> None:
    manager = await console.signed_in("manager")
    assert 'name="waived_rules"' not in (await manager.get("/ui/campaigns/new")).text
    admin = await console.signed_in("admin")
    assert 'name="waived_rules"' in (await admin.get("/ui/campaigns/new")).text
    resp = await admin.submit(
        "/ui/campaigns/new", FORM | {"name": "Waived", "waived_rules": "fr.weekend"}
    )
    assert _error_for(resp.text, "waiver_reason") == "Waiving rules needs a waiver_reason"
    resp = await admin.submit(
        "/ui/campaigns/new",
        FORM | {"name": "Waived", "waived_rules": "fr.nope", "waiver_reason": "consented"},
    )
    shown = _error_for(resp.text, "waived_rules")
    assert resp.status == 400 and shown is not None and "fr.nope" in shown
    resp = await admin.submit(
        "/ui/campaigns/new",
        FORM | {"name": "Waived", "waived_rules": "fr.weekend", "waiver_reason": "consented"},
    )
    assert resp.status == 303
    assert await console.pool.fetchval(
        "SELECT waived_rules FROM campaigns WHERE name = 'Waived'"
    ) == ["fr.weekend"]


# ---- lifecycle buttons ------------------------------------------------------------------------


async def test_buttons_follow_the_campaign_lifecycle(console: Console) -> None:
    cid = await console.campaign("lifecycle")
    browser = await console.signed_in("manager")
    page = await browser.get("/ui/campaigns")
    row = page.text.split(f'id="campaign-{cid}"')[1].split("</tr>")[0]
    assert 'data-action="start"' in row and 'data-action="pause"' not in row
    resp = await browser.submit(f"/ui/campaigns/{cid}/start")
    assert resp.status == 303 and await console.state_of(cid) == "running"
    assert "“lifecycle” is running." in (await browser.get("/ui/campaigns")).text
    htmx = {"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    resp = await browser.post(f"/ui/campaigns/{cid}/pause", headers=htmx)
    assert 'data-action="start"' in resp.text and 'data-action="pause"' not in resp.text
    assert "state-paused" in resp.text and await console.state_of(cid) == "paused"
    resp = await browser.post(f"/ui/campaigns/{cid}/stop", headers=htmx)
    assert await console.state_of(cid) == "stopped" and "is stopped" in resp.text


async def test_starting_without_a_caller_id_says_why(console: Console) -> None:
    cid = await console.campaign("no caller id", caller_id=None)
    browser = await console.signed_in("manager")
    await browser.get("/ui/campaigns")
    htmx = {"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    resp = await browser.post(f"/ui/campaigns/{cid}/start", headers=htmx)
    assert resp.status == 200 and "flash-error" in resp.text
    assert "set a caller_id before starting the campaign" in resp.text
    assert await console.state_of(cid) == "draft"


async def test_delete_refuses_a_running_campaign_and_removes_others(console: Console) -> None:
    running = await console.campaign("busy one", state="running")
    idle = await console.campaign("idle one")
    browser = await console.signed_in("manager")
    await browser.get("/ui/campaigns")
    htmx = {"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    resp = await browser.post(f"/ui/campaigns/{running}/delete", headers=htmx)
    assert "stop the campaign before deleting it" in resp.text
    assert f'id="campaign-{running}"' in resp.text  # the row stays
    resp = await browser.post(f"/ui/campaigns/{idle}/delete", headers=htmx)
    assert f'id="campaign-{idle}"' not in resp.text and "deleted" in resp.text
    assert "idle one" not in (await browser.get("/ui/campaigns")).text


async def test_list_filters_by_state_and_shows_figures_without_rates(console: Console) -> None:
    cid = await console.campaign("paused filter", state="paused")
    browser = await console.signed_in("viewer")
    page = await browser.get("/ui/campaigns?state=paused")
    assert "paused filter" in page.text and "lifecycle" not in page.text
    row = page.text.split(f'id="campaign-{cid}"')[1].split("</tr>")[0]
    # No leads and no calls: zero counts, and no rate without a denominator.
    figures = re.findall(r'<td class="num ?[^"]*">([^<]*)</td>', row)
    assert figures == ["0", "0", "0", "—", "—"]


# ---- calling rules ----------------------------------------------------------------------------


async def test_rules_check_shows_the_decision_with_reasons_and_next_time(
    console: Console,
) -> None:
    browser = await console.signed_in("viewer")
    query = "phone=%2B13055550123&purpose=telemarketing&at=2026-03-08T03:00:00Z"
    page = await browser.get(f"/ui/rules?{query}")
    assert page.status == 200
    assert '<div class="verdict-title">Blocked</div>' in page.text
    assert "us-fl.hours" in page.text and "Fla. Stat. 501.616" in page.text
    assert "America/New_York" in page.text
    assert "Sun 08 Mar 2026, 12:00 UTC" in page.text  # next allowed, in UTC
    assert 'id="pack-us-fl"' in page.text  # the packs list below


async def test_rules_check_allowed_and_htmx_partial(console: Console) -> None:
    browser = await console.signed_in("viewer")
    query = "phone=%2B13055550123&purpose=survey&at=2026-03-09T16:00:00Z"
    resp = await browser.get(f"/ui/rules?{query}", headers={"HX-Request": "true"})
    assert '<div class="verdict-title">Allowed</div>' in resp.text
    assert "<html" not in resp.text and 'id="pack-' not in resp.text


async def test_rules_check_input_errors_sit_next_to_the_input(console: Console) -> None:
    browser = await console.signed_in("viewer")
    page = await browser.get("/ui/rules?phone=12&purpose=survey")
    assert _error_for(page.text, "phone") is not None
    # A national number without a region: the fix is named, at the Region field.
    page = await browser.get("/ui/rules?phone=020+7946+0958&purpose=survey")
    shown = _error_for(page.text, "region")
    assert shown is not None and shown.startswith("No country code") and "+country code" in shown
    assert "Missing or invalid default region" not in page.text
    page = await browser.get("/ui/rules?phone=%2B13055550123&purpose=survey&at=tomorrow")
    shown = _error_for(page.text, "at")
    assert shown is not None and "ISO 8601" in shown
