"""decide(): caps, cool-downs, DNC, campaign schedules, waivers and next_allowed_at."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from compliance_helpers import local

from dialer.compliance import (
    MAX_LOOKBACK,
    ContactRecord,
    LeadInfo,
    RuleBook,
    WeeklyWindows,
    decide,
    load_rulebook,
)

FL = LeadInfo.from_phone("+13055550123")
NY = LeadInfo.from_phone("+12125550123")
PARIS = LeadInfo.from_phone("+33145678901")
LONDON = LeadInfo.from_phone("+442079460000")
NOON_NY = local("America/New_York", "2026-07-01T12:00:00")


def attempt(
    at: datetime,
    *,
    purpose: str = "telemarketing",
    same_campaign: bool = True,
    outcome: str = "no_answer",
    conversation: bool = False,
    abandoned: bool = False,
) -> ContactRecord:
    return ContactRecord(
        at_utc=at,
        outcome=outcome,
        same_campaign=same_campaign,
        purpose=purpose,
        conversation=conversation,
        abandoned=abandoned,
    )


def test_florida_three_calls_per_24_hours_then_released() -> None:
    history = [attempt(NOON_NY - timedelta(hours=h)) for h in (1, 5, 9)]
    decision = decide(FL, "telemarketing", NOON_NY, history)
    assert not decision.allowed
    assert decision.rule_ids == ("us-fl.24h-cap",)
    # The oldest of the three leaves the 24-hour window 15 hours from now (03:00 local),
    # and the next calling window opens at 08:00 local.
    assert decision.next_allowed_at == local("America/New_York", "2026-07-02T08:00:00")
    assert decide(FL, "telemarketing", NOON_NY, history[:2]).allowed


def test_florida_cap_counts_only_the_same_campaign() -> None:
    history = [attempt(NOON_NY - timedelta(hours=h), same_campaign=False) for h in (1, 2, 3)]
    assert decide(FL, "telemarketing", NOON_NY, history).allowed


def test_reg_f_seven_in_seven_per_debt() -> None:
    history = [
        attempt(NOON_NY - timedelta(days=d, hours=1), purpose="debt_collection") for d in range(7)
    ]
    decision = decide(NY, "debt_collection", NOON_NY, history)
    assert decision.rule_ids == ("us.reg-f.7in7",)
    assert decision.next_allowed_at == history[-1].at_utc + timedelta(days=7)
    assert decide(NY, "debt_collection", NOON_NY, history[:6]).allowed
    # Telemarketing attempts do not count toward a debt's frequency cap.
    assert decide(NY, "telemarketing", NOON_NY, history).allowed


def test_reg_f_no_call_within_seven_days_after_a_conversation() -> None:
    talk = attempt(
        NOON_NY - timedelta(days=2),
        purpose="debt_collection",
        outcome="completed",
        conversation=True,
    )
    decision = decide(NY, "debt_collection", NOON_NY, [talk])
    assert decision.rule_ids == ("us.reg-f.after-conversation",)
    assert decision.next_allowed_at == talk.at_utc + timedelta(days=7)


def test_france_four_solicitations_per_30_days_across_campaigns() -> None:
    at = local("Europe/Paris", "2026-07-07T10:30:00")
    history = [attempt(at - timedelta(days=d), same_campaign=False) for d in (1, 8, 15, 22)]
    decision = decide(PARIS, "telemarketing", at, history)
    assert decision.rule_ids == ("fr.30d-cap",)
    assert decision.next_allowed_at is not None
    assert decision.next_allowed_at >= history[-1].at_utc + timedelta(days=30)


def test_ofcom_72_hours_after_an_abandoned_call_unless_an_agent_is_guaranteed() -> None:
    at = local("Europe/London", "2026-07-01T12:00:00")
    dropped = attempt(at - timedelta(hours=50), outcome="abandoned", abandoned=True)
    decision = decide(LONDON, "survey", at, [dropped])
    assert decision.rule_ids == ("gb.abandoned-72h",)
    assert decision.next_allowed_at == dropped.at_utc + timedelta(hours=72)
    assert decide(LONDON, "survey", at, [dropped], agent_guaranteed=True).allowed


def test_dnc_blocks_every_purpose_without_consent() -> None:
    lead = LeadInfo.from_phone("+12125550123", dnc=True, dnc_sources=("us_dnc",))
    for purpose in ("telemarketing", "survey", "debt_collection", "informational"):
        decision = decide(lead, purpose, NOON_NY)
        assert decision.rule_ids == ("dnc.us_dnc",)
        assert decision.next_allowed_at is None


def test_dnc_registry_lifted_by_consent_only_where_the_pack_allows() -> None:
    lead = LeadInfo.from_phone("+12125550123", dnc=True, dnc_sources=("us_dnc",), consent=True)
    assert decide(lead, "informational", NOON_NY).allowed
    assert decide(lead, "debt_collection", NOON_NY).allowed
    assert not decide(lead, "telemarketing", NOON_NY).allowed
    germany = LeadInfo.from_phone("+4930123456", dnc=True, dnc_sources=("crm",), consent=True)
    assert not decide(germany, "informational", local("Europe/Berlin", "2026-07-01T12:00")).allowed


def test_the_callees_own_request_is_never_lifted_by_consent() -> None:
    lead = LeadInfo.from_phone("+12125550123", dnc=True, dnc_sources=("internal",), consent=True)
    assert decide(lead, "informational", NOON_NY).rule_ids == ("dnc.internal",)
    unnamed = LeadInfo.from_phone("+12125550123", dnc=True, consent=True)
    assert decide(unnamed, "informational", NOON_NY).rule_ids == ("dnc",)


def test_campaign_schedule_can_only_make_rules_stricter() -> None:
    schedule = WeeklyWindows.from_json({"wed": [["06:00", "13:00"]]})
    early = local("America/New_York", "2026-07-01T07:00:00")
    decision = decide(NY, "telemarketing", early, schedule=schedule)
    assert decision.rule_ids == ("us.hours",)  # the campaign's 06:00 does not relax 08:00
    late = local("America/New_York", "2026-07-01T14:00:00")
    decision = decide(NY, "telemarketing", late, schedule=schedule)
    assert decision.rule_ids == ("campaign.schedule",)
    assert decision.next_allowed_at == local("America/New_York", "2026-07-08T08:00:00")
    assert "campaign" in decision.rules_applied


def test_admin_waiver_lifts_only_the_named_rule() -> None:
    at = local("America/New_York", "2026-07-01T20:30:00")
    waived = frozenset({"us-fl.hours"})
    decision = decide(FL, "telemarketing", at, waived_rules=waived)
    assert decision.allowed
    assert decision.waived_rules == ("us-fl.hours",)
    at = local("America/New_York", "2026-07-01T21:30:00")
    assert decide(FL, "telemarketing", at, waived_rules=waived).rule_ids == ("us.hours",)


def test_next_allowed_skips_weekends_lunch_and_holidays() -> None:
    friday_evening = local("Europe/Paris", "2026-07-10T20:00:00")
    # Monday 13 July, then 14 July is a holiday: next is Monday 10:00.
    assert decide(PARIS, "telemarketing", friday_evening).next_allowed_at == local(
        "Europe/Paris", "2026-07-13T10:00:00"
    )
    lunch = local("Europe/Paris", "2026-07-07T13:15:00")
    assert decide(PARIS, "telemarketing", lunch).next_allowed_at == local(
        "Europe/Paris", "2026-07-07T14:00:00"
    )
    monday_evening = local("Europe/Paris", "2026-07-13T20:00:00")
    assert decide(PARIS, "telemarketing", monday_evening).next_allowed_at == local(
        "Europe/Paris", "2026-07-15T10:00:00"
    )


def test_next_allowed_is_null_when_nothing_opens_within_14_days() -> None:
    never = WeeklyWindows.from_json({})
    decision = decide(NY, "telemarketing", NOON_NY, schedule=never)
    assert not decision.allowed
    assert decision.next_allowed_at is None


ALWAYS_OPEN = RuleBook.from_texts(
    {
        "default.toml": """
id = "default"
name = "test: always open"
country = "*"
purposes = ["survey"]
[[rules]]
id = "default.hours"
kind = "window"
daily = [["00:00", "24:00"]]
confidence = "default"
source = "test"
"""
    }
)
NEW_YORK_ONLY = LeadInfo("+99912345", None, None, ("America/New_York",))


def _next(schedule: dict[str, list[list[str]]], at: datetime) -> datetime | None:
    windows = WeeklyWindows.from_json(schedule)
    decision = decide(NEW_YORK_ONLY, "survey", at, schedule=windows, rulebook=ALWAYS_OPEN)
    assert not decision.allowed
    return decision.next_allowed_at


def test_window_opening_inside_the_spring_forward_gap_opens_at_the_jump() -> None:
    # Sunday 8 March 2026: 02:00 EST -> 03:00 EDT; 02:30 never happens on the wall clock.
    opens_0230 = {"sun": [["02:30", "22:00"]]}
    at = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert _next(opens_0230, at) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_window_inside_the_fall_back_repeat_opens_again_on_the_second_pass() -> None:
    # Sunday 1 November 2026: 01:00-02:00 happens twice (EDT, then EST).
    short = {"sun": [["01:30", "01:45"]]}
    after_first = datetime(2026, 11, 1, 5, 45, tzinfo=UTC)  # 01:45 EDT
    assert _next(short, after_first) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    # A window that closed at 01:30 EDT re-opens when the clock falls back to 01:00 EST.
    early = {"sun": [["00:00", "01:30"]]}
    at = datetime(2026, 11, 1, 5, 40, tzinfo=UTC)  # 01:40 EDT
    assert _next(early, at) == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST


def test_shipped_hours_hold_on_both_passes_of_the_repeat() -> None:
    lead = LeadInfo.from_phone("+12125550123")
    for at in (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)):
        decision = decide(lead, "survey", at)  # 01:30 EDT, then 01:30 EST
        assert not decision.allowed
        assert decision.next_allowed_at == local("America/New_York", "2026-11-01T08:00:00")


def test_unknown_zone_uses_every_zone_of_the_country() -> None:
    lead = LeadInfo("+12125550123", "US", None, ("Etc/Unknown",))
    decision = decide(lead, "telemarketing", NOON_NY)
    assert "Pacific/Honolulu" in decision.time_zones
    assert not decision.allowed  # 06:00 in Honolulu
    nowhere = LeadInfo("+99912345", None, None, ())
    decision = decide(nowhere, "telemarketing", NOON_NY)
    assert decision.rule_ids == ("place.unknown-zone",)
    assert decision.next_allowed_at is None


def test_decision_is_stored_as_json() -> None:
    decision = decide(FL, "telemarketing", local("America/New_York", "2026-07-01T20:30:00"))
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["allowed"] is False
    assert data["reasons"][0].startswith("us-fl.hours: ")
    assert data["rule_ids"] == ["us-fl.hours"]
    assert data["next_allowed_at"] == "2026-07-02T12:00:00Z"
    assert data["local_times"] == {"America/New_York": "2026-07-01T20:30:00-04:00"}
    assert data["packs"] == ["us", "us-fl"]
    assert data["at"] == "2026-07-02T00:30:00Z"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown purpose"):
        decide(NY, "sales", NOON_NY)
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(NY, "survey", datetime(2026, 7, 1, 12))


def test_engine_queries_enough_history() -> None:
    assert load_rulebook().max_lookback <= MAX_LOOKBACK
    assert timedelta(days=30) <= MAX_LOOKBACK


def test_lead_without_stored_zones_is_resolved_from_its_number() -> None:
    at = local("Australia/Sydney", "2026-07-06T10:00:00")
    canberra = decide(LeadInfo("+61262701234", "AU", None, ()), "telemarketing", at)
    lord_howe = decide(LeadInfo("+61265631234", "AU", None, ()), "telemarketing", at)
    assert canberra.time_zones == ("Australia/Sydney",)
    assert lord_howe.time_zones == ("Australia/Lord_Howe",)


def test_stored_subdivision_that_disagrees_with_the_area_code_adds_its_rules() -> None:
    lead = LeadInfo("+12125550123", "US", "FL", ("America/New_York",))
    decision = decide(lead, "telemarketing", local("America/New_York", "2026-07-01T20:30:00"))
    assert decision.subdivisions == ("NY", "FL")
    assert decision.rule_ids == ("us-fl.hours",)
