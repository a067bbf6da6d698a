"""Holidays as each state's statute lists and moves them, one table per state with an
observance rule (source in each table's name), plus properties of the date computation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from compliance_helpers import local
from hypothesis import given
from hypothesis import strategies as st

from dialer.compliance import CallPreference, LeadInfo, PackError, decide, load_rulebook
from dialer.compliance.holiday_days import HolidayDay, parse_day

TM = "telemarketing"
UT, AL, LA, MS = "+18015550123", "+12055550123", "+15045550123", "+16015550123"
DEN, CHI = "America/Denver", "America/Chicago"

# (phone, local noon date, allowed, rule ids that must block)
Row = tuple[str, str, bool, set[str]]

TABLES: dict[str, list[Row]] = {
    # Utah Code 63G-1-301(2)(c): 19 June on Tuesday-Friday -> the preceding Monday;
    # (2)(d): on a weekend -> the following Monday; 13-25a-103(3)(c): no calls that day.
    "utah 63G-1-301(2)(c)-(d) juneteenth": [
        (UT, "2026-06-15", False, {"us-ut.holidays"}),  # Monday before Friday 19 June 2026
        (UT, "2026-06-19", True, set()),  # Friday 19 June 2026 itself is not a holiday
        (UT, "2027-06-18", True, set()),  # Friday before Saturday 19 June 2027: allowed
        (UT, "2027-06-21", False, {"us-ut.holidays"}),  # Monday after Saturday 19 June 2027
        (UT, "2028-06-19", False, {"us-ut.holidays"}),  # a Monday: the day itself
        (UT, "2025-06-16", False, {"us-ut.holidays"}),  # Thursday 19 June 2025 -> Monday 16
    ],
    # Utah Code 63G-1-301(2)(a)-(b): (1)(a) days on Saturday -> Friday, Sunday -> Monday.
    "utah 63G-1-301(2)(a)-(b) fixed days": [
        (UT, "2026-07-03", False, {"us-ut.holidays"}),  # 4 July 2026 is a Saturday
        (UT, "2027-07-23", False, {"us-ut.holidays"}),  # Pioneer Day 2027 is a Saturday
        (UT, "2027-07-24", True, set()),  # ... and the Saturday itself is not a holiday
        (UT, "2027-12-31", False, {"us-ut.holidays"}),  # 1 January 2028 is a Saturday
        (UT, "2028-11-10", False, {"us-ut.holidays"}),  # Veterans Day 2028 is a Saturday
        (UT, "2026-11-27", True, set()),  # the day after Thanksgiving is not listed
    ],
    # Ala. Code 1-3-8(a): a Saturday holiday is held on the preceding day, a Sunday one on
    # the following day (the moved day replaces the date).
    "alabama 1-3-8(a)": [
        (AL, "2026-07-03", False, {"us-al.holidays"}),  # 4 July 2026 is a Saturday
        (AL, "2026-07-04", True, set()),  # ... the Saturday itself is not a holiday
        (AL, "2027-12-24", False, {"us-al.holidays"}),  # Christmas 2027 is a Saturday
        (AL, "2027-12-31", False, {"us-al.holidays"}),  # New Year 2028 is a Saturday
        (AL, "2026-04-27", False, {"us-al.holidays"}),  # Confederate Memorial Day, 4th Monday
        (AL, "2026-06-01", False, {"us-al.holidays"}),  # Jefferson Davis' birthday
        (AL, "2026-06-19", False, {"us-al.house-holidays"}),  # house choice, NV in statute
    ],
    # La. R.S. 1:55(A)(1): the listed days on their dates; Robert E. Lee Day is gone.
    "louisiana R.S. 1:55(A)(1)": [
        (LA, "2026-01-08", False, {"us-la.holidays"}),  # Battle of New Orleans
        (LA, "2027-01-19", True, set()),  # Robert E. Lee Day (a Tuesday): no longer listed
        (LA, "2026-02-17", False, {"us-la.holidays"}),  # Mardi Gras
        (LA, "2026-04-03", False, {"us-la.holidays"}),  # Good Friday
        (LA, "2026-08-31", True, set()),  # Huey P. Long Day falls on Sunday 30 Aug: no shift
        (LA, "2027-08-30", False, {"us-la.holidays"}),  # Huey P. Long Day, a Monday
        (LA, "2026-11-02", True, set()),  # All Saints' Day 2026 is a Sunday: no shift
        (LA, "2027-11-01", False, {"us-la.holidays"}),  # All Saints' Day, a Monday
        # House choice (us-la.house-holidays): weekend New Year/4 July/Christmas moved, 26 Dec.
        (LA, "2026-07-03", False, {"us-la.house-holidays"}),
        (LA, "2026-12-26", False, {"us-la.house-holidays"}),
    ],
    # Mississippi: the PSC holiday ban was repealed in 2024; kept as a house choice. The
    # name filter of the old rule also caught Juneteenth ("... Independence Day"): not now.
    "mississippi house choice (former 39 Miss. Admin. Code Pt. I R. 1:28)": [
        (MS, "2026-07-03", False, {"us-ms.holidays"}),
        (MS, "2026-06-19", True, set()),
        (MS, "2026-11-26", True, set()),
    ],
}
ROWS = [(name, *row) for name, rows in TABLES.items() for row in rows]


@pytest.mark.parametrize(
    ("table", "phone", "day", "allowed", "rule_ids"), ROWS, ids=[f"{r[0]}:{r[2]}" for r in ROWS]
)
def test_statute_holiday_table(
    table: str, phone: str, day: str, allowed: bool, rule_ids: set[str]
) -> None:
    zone = DEN if phone == UT else CHI
    decision = decide(LeadInfo.from_phone(phone), TM, local(zone, f"{day}T12:00:00"))
    assert decision.allowed is allowed, [str(r) for r in decision.reasons]
    assert rule_ids <= set(decision.rule_ids)


def test_mississippi_statute_ends_at_8pm_central_standard_time() -> None:
    """Miss. Code Ann. 77-3-723(1): 8:00 a.m.-8:00 p.m. Central Standard Time."""
    rule = next(r for r in load_rulebook().pack("us-ms").rules if r.id == "us-ms.hours-cst")
    assert rule.allowed.describe_day(2) == "08:00-20:00"
    # In winter (CST) 19:59 is allowed and 20:00 blocked by the statute's own rule.
    lead = LeadInfo.from_phone(MS)
    assert decide(lead, TM, local(CHI, "2026-12-02T19:59:00")).allowed
    late = decide(lead, TM, local(CHI, "2026-12-02T20:00:00"))
    assert "us-ms.hours-cst" in late.rule_ids


def test_house_choices_say_so() -> None:
    """A rule stricter than its source is a house choice: default confidence, said in its
    source; the statute rules keep their citations."""
    book = load_rulebook()
    for rule_id in (
        "us-la.house-holidays",
        "us-al.house-holidays",
        "us-ms.holidays",
        "us-ms.hours",
        "ca.other-hours",
    ):
        pack = book.pack(rule_id.split(".")[0])
        assert pack is not None
        rule = next(r for r in pack.rules if r.id == rule_id)
        assert rule.confidence == "default" and rule.source.startswith("House choice"), rule_id


# India, TCCCPR 2018: a registered preference's bands replace the 09:00-21:00 default.
IN = "+918123456789"
KOL = "Asia/Kolkata"


@pytest.mark.parametrize(
    ("preference", "category", "wall", "allowed", "rule_ids"),
    [
        (None, None, "2026-07-01T22:00:00", False, {"in.hours"}),  # default band
        (None, None, "2026-07-01T10:00:00", True, set()),
        ((("1",), [("21:00", "24:00")]), "1", "2026-07-01T22:00:00", True, set()),
        ((("1",), [("21:00", "24:00")]), "1", "2026-07-01T10:00:00", False, {"in.ncpr-preference"}),
        ((("1",), [("10:00", "12:00")]), "2", "2026-07-01T10:30:00", False, {"in.ncpr-preference"}),
        (((), [("10:00", "12:00")]), "1", "2026-07-01T10:30:00", False, {"in.ncpr-preference"}),
        (
            (("1",), [("10:00", "12:00")]),
            None,
            "2026-07-01T10:30:00",
            False,
            {"in.ncpr-preference"},
        ),
    ],
)
def test_tcccpr_2018_preference_table(
    preference: tuple[tuple[str, ...], list[tuple[str, str]]] | None,
    category: str | None,
    wall: str,
    allowed: bool,
    rule_ids: set[str],
) -> None:
    pref = CallPreference.from_bands(*preference) if preference else None
    lead = LeadInfo.from_phone(IN)
    decision = decide(lead, TM, local(KOL, wall), preference=pref, category=category)
    assert decision.allowed is allowed, [str(r) for r in decision.reasons]
    assert rule_ids <= set(decision.rule_ids)
    refused = pref is not None and (category is None or category not in pref.categories)
    if refused:  # a refused category: no later time helps
        assert decision.next_allowed_at is None
    elif not allowed:
        assert decision.next_allowed_at is not None
        later = decide(lead, TM, decision.next_allowed_at, preference=pref, category=category)
        assert later.allowed


def test_registered_days_only() -> None:
    pref = CallPreference.from_bands(("1",), [("10:00", "12:00")], ["sat", "sun"])
    lead = LeadInfo.from_phone(IN)
    weekday = decide(lead, TM, local(KOL, "2026-07-01T10:30:00"), preference=pref, category="1")
    assert not weekday.allowed
    assert weekday.next_allowed_at == local(KOL, "2026-07-04T10:00:00")


def test_bad_days_are_refused_with_the_field() -> None:
    for raw, text in [
        ({"name": "x"}, "exactly one"),
        ({"name": "x", "date": "13-01"}, "bad date"),
        ({"name": "x", "date": "01-01", "observed": {"sat": "before fri"}}, "previous fri"),
        ({"name": "x", "month": 1, "weekday": "mon", "week": 0}, "week"),
        ({"name": "x", "easter": 0, "colour": "red"}, "unknown field"),
    ]:
        with pytest.raises(ValueError, match=text):
            parse_day(raw)
    pack = """id = "xx"\nname = "x"\ncountry = "XX"\npurposes = ["survey"]\n
[[rules]]\nid = "xx.h"\nkind = "holidays"\nconfidence = "default"\nsource = "s"\n
[[rules.days]]\nname = "x"\ndate = "02-30"\n"""
    from dialer.compliance import parse_pack

    with pytest.raises(PackError, match=r"xx.toml: rules\[0\]\.days\[0\]: date"):
        parse_pack("xx.toml", pack)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
shift_targets = st.fixed_dictionaries(
    {},
    optional={
        d: st.sampled_from([f"{w} {t}" for w in ("previous", "next") for t in WEEKDAYS])
        for d in WEEKDAYS
    },
)


@given(
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    observed=shift_targets,
    keep=st.booleans(),
    year=st.integers(1990, 2100),
)
def test_observed_day_properties(
    month: int, day: int, observed: dict[str, str], keep: bool, year: int
) -> None:
    holiday = parse_day(
        {"name": "h", "date": f"{month:02d}-{day:02d}", "observed": observed, "keep_actual": keep}
    )
    actual = date(year, month, day)
    found = holiday.dates(year) | holiday.dates(year - 1) | holiday.dates(year + 1)
    key = WEEKDAYS[actual.weekday()]
    if key not in observed:
        assert actual in found
        return
    direction, target = observed[key].split()
    moved = [d for d in found if d != actual and abs((d - actual).days) <= 7]
    assert len(moved) == 1
    [when] = moved
    assert WEEKDAYS[when.weekday()] == target
    assert (when > actual) == (direction == "next")
    assert 1 <= abs((when - actual).days) <= 7
    assert (actual in found) is keep


@given(
    year=st.integers(1950, 2150), month=st.integers(1, 12), week=st.sampled_from([1, 2, 3, 4, -1])
)
def test_nth_weekday_properties(year: int, month: int, week: int) -> None:
    for weekday in range(7):
        when = HolidayDay("h", month=month, weekday=weekday, week=week).actual(year)
        assert when is not None and when.month == month and when.weekday() == weekday
        if week > 0:
            assert (when.day - 1) // 7 == week - 1
        else:
            assert (when + timedelta(days=7)).month != month


@given(year=st.integers(1950, 2150))
def test_every_year_has_each_statute_holiday_once(year: int) -> None:
    """Each listed holiday bans exactly one day a year, except New Year's Day, whose
    Saturday date is held on 31 December of the year before (none or two in a year)."""
    rule = next(r for r in load_rulebook().pack("us-ut").rules if r.id == "us-ut.holidays")
    assert rule.holidays is not None
    for listed in rule.holidays.days:
        within = listed.dates(year)
        if listed.since is not None and year < listed.since:
            assert len(within) <= 1
        else:
            assert len(within) == 1 or listed.name == "New Year's Day"
            assert len(within) <= 2
