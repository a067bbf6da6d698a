"""One table of cases per shipped pack: the edges a regulator would test us on.

Each row: number (+ address), purpose, wall time in a zone of the callee, whether the call is
allowed, and the rule ids that must be named when it is not. 2026-07-01 is a Wednesday.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from compliance_helpers import local

from dialer.compliance import LeadInfo, decide

NY, CHI, DEN, LA_ = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
TM, SURVEY, DEBT, INFO = "telemarketing", "survey", "debt_collection", "informational"

# (phone, address, purpose, zone, local wall time, allowed, rule ids that must block)
Case = tuple[str, dict[str, Any], str, str, str, bool, set[str]]
WRITTEN = {"consent_level": "express_written"}

CASES: dict[str, list[Case]] = {
    "us": [
        ("+12125550123", {}, TM, NY, "2026-07-01T07:59:59", False, {"us.hours"}),
        ("+12125550123", {}, TM, NY, "2026-07-01T08:00:00", True, set()),
        ("+12125550123", {}, TM, NY, "2026-07-01T20:59:59", True, set()),
        ("+12125550123", {}, TM, NY, "2026-07-01T21:00:00", False, {"us.hours"}),
        ("+12125550123", {}, TM, NY, "2026-07-05T10:00:00", True, set()),  # Sunday is fine
        ("+12125550123", {}, DEBT, NY, "2026-07-01T21:00:00", False, {"us.fdcpa-hours"}),
        ("+12125550123", {}, SURVEY, NY, "2026-07-01T07:59:59", False, {"us.other-hours"}),
        ("+17875550123", {}, TM, "America/Puerto_Rico", "2026-07-01T21:00:00", False, {"us.hours"}),
    ],
    "us-fl": [
        ("+13055550123", {}, TM, NY, "2026-07-01T07:59:59", False, {"us.hours", "us-fl.hours"}),
        ("+13055550123", {}, TM, NY, "2026-07-01T08:00:00", True, set()),
        ("+13055550123", {}, TM, NY, "2026-07-01T19:59:59", True, set()),
        ("+13055550123", {}, TM, NY, "2026-07-01T20:00:00", False, {"us-fl.hours"}),
        ("+13055550123", {}, SURVEY, NY, "2026-07-01T20:30:00", True, set()),  # FTSA: sales only
        # A Florida area code on a New York address gets Florida's rules too.
        ("+12125550123", {"state": "FL"}, TM, NY, "2026-07-01T20:30:00", False, {"us-fl.hours"}),
        ("+13055550123", {"state": "NY"}, TM, NY, "2026-07-01T20:30:00", False, {"us-fl.hours"}),
    ],
    "us-fl multi-zone (850)": [
        ("+18505550123", {}, TM, NY, "2026-07-01T08:30:00", False, {"us.hours"}),  # 07:30 CT
        ("+18505550123", {}, TM, CHI, "2026-07-01T08:00:00", True, set()),
        ("+18505550123", {}, TM, CHI, "2026-07-01T18:59:59", True, set()),
        ("+18505550123", {}, TM, CHI, "2026-07-01T19:00:00", False, {"us-fl.hours"}),  # 20 ET
        ("+18505550123", {"postal_code": "32501"}, TM, CHI, "2026-07-01T19:30:00", True, set()),
    ],
    "us-ok": [
        ("+14055550123", WRITTEN, TM, CHI, "2026-07-01T19:59:59", True, set()),
        ("+14055550123", WRITTEN, TM, CHI, "2026-07-01T20:00:00", False, {"us-ok.hours"}),
    ],
    "us-md": [
        ("+14105550123", {}, TM, NY, "2026-07-01T08:00:00", True, set()),
        ("+14105550123", {}, TM, NY, "2026-07-01T20:00:00", False, {"us-md.hours"}),
    ],
    "us-wa": [
        ("+12065550123", {}, TM, LA_, "2026-07-01T19:59:59", True, set()),
        ("+12065550123", {}, TM, LA_, "2026-07-01T20:00:00", False, {"us-wa.hours"}),
    ],
    "us-tx": [
        ("+12145550123", {}, TM, CHI, "2026-07-01T08:59:59", False, {"us-tx.hours"}),
        ("+12145550123", {}, TM, CHI, "2026-07-01T09:00:00", True, set()),
        ("+12145550123", {}, TM, CHI, "2026-07-01T20:59:59", True, set()),
        ("+12145550123", {}, TM, CHI, "2026-07-01T21:00:00", False, {"us.hours", "us-tx.hours"}),
        ("+12145550123", {}, TM, CHI, "2026-07-05T11:59:59", False, {"us-tx.hours"}),  # Sunday
        ("+12145550123", {}, TM, CHI, "2026-07-05T12:00:00", True, set()),
        ("+19155550123", {}, TM, DEN, "2026-07-05T12:00:00", True, set()),  # El Paso, Mountain
    ],
    "us-la": [
        ("+15045550123", {}, TM, CHI, "2026-07-06T19:59:59", True, set()),
        ("+15045550123", {}, TM, CHI, "2026-07-06T20:00:00", False, {"us-la.hours"}),
        ("+15045550123", {}, TM, CHI, "2026-07-05T12:00:00", False, {"us-la.sunday"}),
        ("+15045550123", {}, TM, CHI, "2026-12-25T12:00:00", False, {"us-la.holidays"}),
        (
            "+15045550123",
            {},
            TM,
            CHI,
            "2026-02-17T12:00:00",
            False,
            {"us-la.holidays"},
        ),  # Mardi Gras
        ("+15045550123", {}, TM, CHI, "2026-01-08T12:00:00", False, {"us-la.holidays"}),  # PSC list
        ("+15045550123", {}, DEBT, CHI, "2026-07-05T12:00:00", True, set()),  # sales rule only
    ],
    "us-al": [
        ("+12055550123", {}, TM, CHI, "2026-07-01T19:59:59", True, set()),
        ("+12055550123", {}, TM, CHI, "2026-07-01T20:00:00", False, {"us-al.hours"}),
        ("+12055550123", {}, TM, CHI, "2026-07-05T12:00:00", False, {"us-al.sunday"}),
        ("+12055550123", {}, TM, CHI, "2026-06-01T12:00:00", False, {"us-al.holidays"}),
        ("+12055550123", {}, TM, CHI, "2026-07-03T12:00:00", False, {"us-al.holidays"}),  # observed
    ],
    "us-ms": [
        ("+16015550123", {}, TM, CHI, "2026-01-07T08:00:00", True, set()),  # CST in winter
        ("+16015550123", {}, TM, CHI, "2026-07-01T08:30:00", False, {"us-ms.hours-cst"}),  # CDT
        ("+16015550123", {}, TM, CHI, "2026-07-01T09:00:00", True, set()),
        ("+16015550123", {}, TM, CHI, "2026-07-01T19:59:59", True, set()),
        ("+16015550123", {}, TM, CHI, "2026-07-01T20:00:00", False, {"us-ms.hours"}),
        ("+16015550123", {}, TM, CHI, "2026-07-05T12:00:00", False, {"us-ms.sunday"}),
        ("+16015550123", {}, TM, CHI, "2026-12-25T12:00:00", False, {"us-ms.holidays"}),
        ("+16015550123", {}, TM, CHI, "2026-11-26T12:00:00", True, set()),  # not on MS's list
    ],
    "us-ut": [
        ("+18015550123", {}, TM, DEN, "2026-07-01T20:59:59", True, set()),
        ("+18015550123", {}, TM, DEN, "2026-07-05T12:00:00", False, {"us-ut.sunday"}),
        ("+18015550123", {}, TM, DEN, "2026-07-24T12:00:00", False, {"us-ut.holidays"}),
    ],
    "ca": [
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-01T08:59:59", False, {"ca.hours"}),
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-01T09:00:00", True, set()),
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-01T21:29:59", True, set()),
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-01T21:30:00", False, {"ca.hours"}),
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-04T09:59:59", False, {"ca.hours"}),
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-04T10:00:00", True, set()),
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-05T17:59:59", True, set()),
        ("+14165550123", {}, TM, "America/Toronto", "2026-07-05T18:00:00", False, {"ca.hours"}),
        (
            "+14165550123",
            {},
            SURVEY,
            "America/Toronto",
            "2026-07-05T18:00:00",
            False,
            {"ca.other-hours"},
        ),
    ],
    "fr": [
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T09:59:59", False, {"fr.hours"}),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T10:00:00", True, set()),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T12:59:59", True, set()),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T13:00:00", False, {"fr.lunch"}),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T13:30:00", False, {"fr.lunch"}),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T14:00:00", True, set()),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T19:59:59", True, set()),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-07T20:00:00", False, {"fr.hours"}),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-04T11:00:00", False, {"fr.weekend"}),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-05T11:00:00", False, {"fr.weekend"}),
        ("+33145678901", {}, TM, "Europe/Paris", "2026-07-14T11:00:00", False, {"fr.holidays"}),
        ("+33145678901", {}, SURVEY, "Europe/Paris", "2026-07-04T11:00:00", True, set()),
        (
            "+590590201234",
            {},
            TM,
            "America/Guadeloupe",
            "2026-05-27T11:00:00",
            False,
            {"fr.holidays"},
        ),  # abolition of slavery, Guadeloupe
    ],
    "au": [
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-07-06T08:59:59", False, {"au.hours"}),
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-07-06T09:00:00", True, set()),
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-07-06T19:59:59", True, set()),
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-07-06T20:00:00", False, {"au.hours"}),
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-07-04T16:59:59", True, set()),
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-07-04T17:00:00", False, {"au.hours"}),
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-07-05T11:00:00", False, {"au.sunday"}),
        ("+61298765432", {}, TM, "Australia/Sydney", "2026-01-26T11:00:00", False, {"au.holidays"}),
        ("+61298765432", {}, SURVEY, "Australia/Sydney", "2026-07-05T11:00:00", True, set()),
        ("+61298765432", {}, SURVEY, "Australia/Sydney", "2026-07-06T20:29:59", True, set()),
        (
            "+61298765432",
            {},
            SURVEY,
            "Australia/Sydney",
            "2026-07-06T20:30:00",
            False,
            {"au.research-hours"},
        ),
        # Queensland has no DST: 09:00 in Sydney's summer is 08:00 in Brisbane.
        ("+61738765432", {}, TM, "Australia/Sydney", "2026-01-07T09:00:00", False, {"au.hours"}),
        ("+61738765432", {}, TM, "Australia/Brisbane", "2026-01-07T09:00:00", True, set()),
    ],
    "gb": [
        ("+442079460000", {}, TM, "Europe/London", "2026-07-01T07:59:59", False, {"gb.hours"}),
        ("+442079460000", {}, TM, "Europe/London", "2026-07-01T08:00:00", True, set()),
        ("+442079460000", {}, TM, "Europe/London", "2026-07-01T20:59:59", True, set()),
        ("+442079460000", {}, TM, "Europe/London", "2026-07-01T21:00:00", False, {"gb.hours"}),
    ],
    "in": [
        ("+918123456789", {}, TM, "Asia/Kolkata", "2026-07-01T08:59:59", False, {"in.hours"}),
        ("+918123456789", {}, TM, "Asia/Kolkata", "2026-07-01T09:00:00", True, set()),
        ("+918123456789", {}, TM, "Asia/Kolkata", "2026-07-01T20:59:59", True, set()),
        ("+918123456789", {}, TM, "Asia/Kolkata", "2026-07-01T21:00:00", False, {"in.hours"}),
        (
            "+918123456789",
            {},
            DEBT,
            "Asia/Kolkata",
            "2026-07-01T19:00:00",
            False,
            {"in.collection-hours"},
        ),
    ],
    "bd": [
        ("+8801812345678", {}, TM, "Asia/Dhaka", "2026-07-01T07:59:59", False, {"bd.hours"}),
        ("+8801812345678", {}, TM, "Asia/Dhaka", "2026-07-01T08:00:00", True, set()),
        ("+8801812345678", {}, TM, "Asia/Dhaka", "2026-07-01T19:59:59", True, set()),
        ("+8801812345678", {}, TM, "Asia/Dhaka", "2026-07-01T20:00:00", False, {"bd.hours"}),
        ("+8801812345678", {}, TM, "Asia/Dhaka", "2026-07-03T12:00:00", False, {"bd.friday"}),
        ("+8801812345678", {}, SURVEY, "Asia/Dhaka", "2026-07-03T12:00:00", True, set()),
        ("+8801812345678", {}, TM, "Asia/Dhaka", "2026-12-16T12:00:00", False, {"bd.holidays"}),
    ],
    "ke": [
        ("+254712123456", {}, TM, "Africa/Nairobi", "2026-07-01T20:00:00", False, {"ke.hours"}),
        ("+254712123456", {}, TM, "Africa/Nairobi", "2026-12-12T12:00:00", False, {"ke.holidays"}),
        ("+254712123456", {}, DEBT, "Africa/Nairobi", "2026-12-12T12:00:00", True, set()),
    ],
    "tz": [
        ("+255621234567", {}, TM, "Africa/Dar_es_Salaam", "2026-07-01T08:00:00", True, set()),
        (
            "+255621234567",
            {},
            TM,
            "Africa/Dar_es_Salaam",
            "2026-12-09T12:00:00",
            False,
            {"tz.holidays"},
        ),
    ],
    "default": [
        ("+4930123456", {}, TM, "Europe/Berlin", "2026-07-06T08:59:59", False, {"default.hours"}),
        ("+4930123456", {}, TM, "Europe/Berlin", "2026-07-06T09:00:00", True, set()),
        ("+4930123456", {}, TM, "Europe/Berlin", "2026-07-06T19:59:59", True, set()),
        ("+4930123456", {}, TM, "Europe/Berlin", "2026-07-06T20:00:00", False, {"default.hours"}),
        ("+4930123456", {}, INFO, "Europe/Berlin", "2026-07-05T12:00:00", False, {"default.hours"}),
    ],
}

ROWS = [(pack, *case) for pack, cases in CASES.items() for case in cases]


@pytest.mark.parametrize(
    ("pack", "phone", "address", "purpose", "zone", "wall", "allowed", "rule_ids"),
    ROWS,
    ids=[f"{r[0]}:{r[1]}:{r[4]}:{r[5]}:{r[3]}" for r in ROWS],
)
def test_pack_table(
    pack: str,
    phone: str,
    address: dict[str, Any],
    purpose: str,
    zone: str,
    wall: str,
    allowed: bool,
    rule_ids: set[str],
) -> None:
    address = dict(address)
    extra = {k: address.pop(k) for k in list(address) if k.startswith("consent")}
    lead = replace(LeadInfo.from_phone(phone, **address), **extra)
    decision = decide(lead, purpose, local(zone, wall))
    assert decision.allowed is allowed, [str(r) for r in decision.reasons]
    assert rule_ids <= set(decision.rule_ids)
    for reason in decision.reasons:
        assert reason.rule_id in str(reason)
        assert reason.source
    if not allowed:
        assert decision.next_allowed_at is not None
        assert decision.next_allowed_at > decision.at_utc
        assert decide(lead, purpose, decision.next_allowed_at).allowed
