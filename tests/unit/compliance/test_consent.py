"""Consent, revocation, business relationship and registry facts: each rule both ways."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from compliance_helpers import local
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.compliance import CallPreference, LeadInfo, decide
from dialer.compliance.consent import CONSENT_LEVELS, add_months

NY = "America/New_York"
AT = local(NY, "2026-07-01T12:00:00")  # a Wednesday noon: every time rule allows
TM, SURVEY, DEBT = "telemarketing", "survey", "debt_collection"
NYC = LeadInfo.from_phone("+12125550123")
OKC = LeadInfo.from_phone("+14055550123")
MUMBAI = LeadInfo.from_phone("+919820012345")


def ago(days: int) -> datetime:
    return AT - timedelta(days=days)


# (lead, changes, purpose, allowed, rule ids that must block)
CASES: list[tuple[str, LeadInfo, dict[str, Any], str, bool, set[str]]] = [
    ("us wireless tm no consent", NYC, {"wireless": True}, TM, False,
     {"us.wireless-telemarketing-consent"}),
    ("us wireless tm express only", NYC, {"wireless": True, "consent_level": "express"}, TM,
     False, {"us.wireless-telemarketing-consent"}),
    ("us wireless tm written", NYC, {"wireless": True, "consent_level": "express_written"}, TM,
     True, set()),
    ("us wireless unknown", NYC, {}, TM, True, set()),
    ("us landline", NYC, {"wireless": False}, TM, True, set()),
    ("us wireless survey none", NYC, {"wireless": True}, SURVEY, False, {"us.wireless-consent"}),
    ("us wireless survey express", NYC, {"wireless": True, "consent_level": "express"}, SURVEY,
     True, set()),
    ("us wireless debt legacy yes/no consent", NYC, {"wireless": True, "consent": True}, DEBT,
     True, set()),
    ("consent dated after the call", NYC, {"wireless": True, "consent_level": "express",
     "consent_at": AT + timedelta(hours=1)}, SURVEY, False, {"us.wireless-consent"}),
    ("revoked before", NYC, {"consent_level": "express_written",
     "consent_revoked_at": ago(1)}, TM, False, {"consent.revoked"}),
    ("revoked at this instant", NYC, {"consent_level": "express_written",
     "consent_revoked_at": AT}, TM, False, {"consent.revoked"}),
    ("revoked later", NYC, {"consent_level": "express_written",
     "consent_revoked_at": AT + timedelta(seconds=1)}, TM, True, set()),
    ("revoked without date", NYC, {"consent_level": "revoked"}, SURVEY, False,
     {"consent.revoked"}),
    ("us_dnc, no relationship", NYC, {"dnc_sources": ("us_dnc",)}, TM, False, {"dnc.us_dnc"}),
    ("us_dnc, purchase 17 months ago", NYC, {"dnc_sources": ("us_dnc",),
     "ebr_purchase_at": add_months(AT, -17)}, TM, True, set()),
    ("us_dnc, purchase 18 months ago", NYC, {"dnc_sources": ("us_dnc",),
     "ebr_purchase_at": add_months(AT, -18)}, TM, False, {"dnc.us_dnc"}),
    ("us_dnc, inquiry 2 months ago", NYC, {"dnc_sources": ("us_dnc",),
     "ebr_inquiry_at": add_months(AT, -2)}, TM, True, set()),
    ("us_dnc, inquiry 3 months ago", NYC, {"dnc_sources": ("us_dnc",),
     "ebr_inquiry_at": add_months(AT, -3)}, TM, False, {"dnc.us_dnc"}),
    ("us_dnc, written permission", NYC, {"dnc_sources": ("us_dnc",),
     "consent_level": "express_written"}, TM, True, set()),
    ("us_dnc, express (not written)", NYC, {"dnc_sources": ("us_dnc",),
     "consent_level": "express"}, TM, False, {"dnc.us_dnc"}),
    ("us_dnc, relationship but revoked", NYC, {"dnc_sources": ("us_dnc",),
     "ebr_purchase_at": ago(10), "consent_level": "revoked"}, TM, False,
     {"dnc.us_dnc", "consent.revoked"}),
    ("internal list beats written permission", NYC, {"dnc_sources": ("internal",),
     "consent_level": "express_written"}, TM, False, {"dnc.internal"}),
    ("rnd: disconnected after consent", NYC, {"wireless": True,
     "consent_level": "express_written", "consent_at": ago(300), "disconnected_at": ago(100)},
     TM, False, {"us.reassigned-number", "us.wireless-telemarketing-consent"}),
    ("rnd: disconnected on the consent day", NYC, {"consent_level": "express_written",
     "consent_at": ago(100), "disconnected_at": ago(100)}, TM, False, {"us.reassigned-number"}),
    ("rnd: disconnected before consent", NYC, {"wireless": True,
     "consent_level": "express_written", "consent_at": ago(100), "disconnected_at": ago(300)},
     TM, True, set()),
    ("rnd: no consent, landline: nothing to protect", NYC, {"disconnected_at": ago(5)}, TM,
     True, set()),
    ("litigator", NYC, {"litigator_sources": ("litigator",),
     "consent_level": "express_written"}, TM, False, {"litigator.litigator"}),
    ("oklahoma automated, no consent", OKC, {}, TM, False, {"us-ok.automated-consent"}),
    ("oklahoma automated, express", OKC, {"consent_level": "express"}, TM, False,
     {"us-ok.automated-consent"}),
    ("oklahoma automated, written", OKC, {"consent_level": "express_written"}, TM, True, set()),
    ("oklahoma survey: OTSA covers sales calls", OKC, {}, SURVEY, True, set()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("lead", "changes", "purpose", "allowed", "rule_ids"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_consent_table(
    lead: LeadInfo, changes: dict[str, Any], purpose: str, allowed: bool, rule_ids: set[str]
) -> None:
    subject = replace(lead, **changes)
    if "dnc_sources" in changes:
        subject = replace(subject, dnc=True)
    decision = decide(subject, purpose, AT)
    assert decision.allowed is allowed, [str(r) for r in decision.reasons]
    assert rule_ids <= set(decision.rule_ids)
    for reason in decision.reasons:
        assert reason.source, reason.rule_id
    if not allowed:
        assert decision.next_allowed_at is None  # no later time lifts a consent rule


# NCPR (India, TCCCPR 2018): a campaign's category against the number's registered ones.
NCPR_CASES = [
    ("open to the category", frozenset({"1", "3"}), "3", True),
    ("not open to the category", frozenset({"1", "3"}), "2", False),
    ("fully blocked", frozenset(), "1", False),
    ("campaign without a category", frozenset({"1"}), None, False),
]


@pytest.mark.parametrize(("name", "categories", "category", "allowed"), NCPR_CASES)
def test_ncpr_categories(
    name: str, categories: frozenset[str], category: str | None, allowed: bool
) -> None:
    at = local("Asia/Kolkata", "2026-07-01T12:00:00")
    decision = decide(MUMBAI, TM, at, preference=CallPreference(categories), category=category)
    assert decision.allowed is allowed, name
    if not allowed:
        assert "in.ncpr-preference" in decision.rule_ids
    assert decide(MUMBAI, TM, at).allowed  # no preference known: default hours only


def test_registered_preference_keeps_default_hours_without_bands() -> None:
    at = local("Asia/Kolkata", "2026-07-01T22:00:00")  # outside 09-21
    found = decide(MUMBAI, TM, at, preference=CallPreference(frozenset({"1"})), category="1")
    assert found.allowed is False


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(
    level=st.sampled_from(CONSENT_LEVELS),
    wireless=st.sampled_from([True, False, None]),
    purpose=st.sampled_from([TM, SURVEY, DEBT]),
    revoked=instants,
    lead=st.sampled_from([NYC, OKC]),
)
def test_revocation_blocks_from_the_instant_recorded(
    level: str, wireless: bool | None, purpose: str, revoked: datetime, lead: LeadInfo
) -> None:
    subject = replace(lead, consent_level=level, wireless=wireless, consent_revoked_at=revoked)
    before = decide(subject, purpose, AT)
    if revoked <= AT:
        assert not before.allowed and "consent.revoked" in before.rule_ids
    else:
        assert "consent.revoked" not in before.rule_ids or level == "revoked"


@settings(max_examples=200, deadline=None)
@given(
    wireless=st.sampled_from([True, False, None]),
    purpose=st.sampled_from([TM, SURVEY, DEBT]),
    lead=st.sampled_from([NYC, OKC]),
    on_dnc=st.booleans(),
)
def test_more_consent_never_blocks_more(
    wireless: bool | None, purpose: str, lead: LeadInfo, on_dnc: bool
) -> None:
    sources = ("us_dnc",) if on_dnc else ()
    allowed = [
        decide(
            replace(lead, consent_level=level, wireless=wireless, dnc=on_dnc, dnc_sources=sources),
            purpose,
            AT,
        ).allowed
        for level in ("none", "express", "express_written")
    ]
    assert allowed == sorted(allowed)  # False..., True...: never True then False


@settings(max_examples=200, deadline=None)
@given(days=st.integers(min_value=0, max_value=1000))
def test_relationship_window(days: int) -> None:
    purchase = AT - timedelta(days=days)
    lead = replace(NYC, dnc=True, dnc_sources=("us_dnc",), ebr_purchase_at=purchase)
    allowed = decide(lead, TM, AT).allowed
    assert allowed is (add_months(purchase, 18) > AT)


def test_a_consent_given_after_the_revocation_counts_again() -> None:
    lead = replace(NYC, wireless=True, consent_level="express_written", consent_revoked_at=ago(10))
    assert "consent.revoked" in decide(replace(lead, consent_at=ago(20)), TM, AT).rule_ids
    assert decide(replace(lead, consent_at=ago(5)), TM, AT).allowed
