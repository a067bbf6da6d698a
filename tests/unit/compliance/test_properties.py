"""Properties over random numbers and instants (hypothesis), including the DST changes of
2026 and 2027 in the US, the EU and Australia.

The reference (compliance_helpers.reference_allowed) evaluates each rule separately on the
real instant converted to each zone; the engine folds rules and searches candidates. They
must agree everywhere, and next_allowed_at must be the first allowed instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from compliance_helpers import reference_allowed
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.compliance import PURPOSES, LeadInfo, RuleBook, WeeklyWindows, decide
from dialer.compliance.decide import SEARCH_HORIZON
from dialer.compliance.policy import _transitions
from dialer.compliance.windows import DAY_KEYS, format_clock

LEADS = [
    LeadInfo.from_phone(phone, **address)
    for phone, address in [
        ("+12125550123", {}),
        ("+13055550123", {}),
        ("+18505550123", {}),  # two zones
        ("+13055550123", {"state": "CA"}),  # Florida number, California address
        ("+12145550123", {}),
        ("+19155550123", {}),
        ("+15045550123", {}),
        ("+12055550123", {}),
        ("+16015550123", {}),  # fixed-CST clock
        ("+18015550123", {}),
        ("+19075550123", {}),  # Alaska, Adak
        ("+14165550123", {}),
        ("+18075550123", {}),
        ("+17095550123", {}),  # Newfoundland, half-hour zone
        ("+33145678901", {}),
        ("+590590201234", {}),
        ("+61298765432", {}),
        ("+61738765432", {}),
        ("+61412345678", {}),  # every Australian zone, incl. Lord Howe's 30-minute DST
        ("+61412345678", {"postal_code": "5000"}),
        ("+442079460000", {}),
        ("+918123456789", {}),
        ("+8801812345678", {}),
        ("+254712123456", {}),
        ("+255621234567", {}),
        ("+4930123456", {}),
        ("+5511961234567", {}),
    ]
]

SCHEDULES = [
    None,
    WeeklyWindows.every_day([(2 * 3600 + 1800, 22 * 3600)]),  # opens inside DST gaps
    WeeklyWindows.every_day([(0, 1 * 3600 + 1800), (12 * 3600, 24 * 3600)]),  # folds
    WeeklyWindows.from_json({"tue": [["09:00", "11:00"]], "sat": [["10:00", "10:00:01"]]}),
]

START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = int((datetime(2028, 1, 1, tzinfo=UTC) - START).total_seconds())

instants = st.integers(0, SPAN).map(lambda s: START + timedelta(seconds=s))


def _dst_changes() -> dict[str, list[datetime]]:
    zones = [
        "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
        "America/St_Johns", "Europe/London", "Europe/Paris", "Australia/Sydney",
        "Australia/Adelaide", "Australia/Lord_Howe", "America/Havana", "America/Santiago",
    ]  # fmt: skip
    found: dict[str, list[datetime]] = {}
    for name in zones:
        tz = ZoneInfo(name)
        day, changes = date(2026, 1, 1), set()
        while day.year < 2028:
            changes.update(_transitions(tz, day))
            day += timedelta(days=1)
        found[name] = sorted(changes)
    return found


CHANGES_BY_ZONE = _dst_changes()
DST_CHANGES = sorted({c for changes in CHANGES_BY_ZONE.values() for c in changes})
near_dst = st.tuples(st.sampled_from(DST_CHANGES), st.integers(-36 * 3600, 36 * 3600)).map(
    lambda pair: pair[0] + timedelta(seconds=pair[1])
)


def test_the_dst_changes_are_found() -> None:
    for zone, changes in CHANGES_BY_ZONE.items():
        assert len(changes) == 4, zone  # two changes a year in 2026 and 2027


def _check_against_reference(
    lead: LeadInfo, purpose: str, at: datetime, schedule: WeeklyWindows | None
) -> None:
    decision = decide(lead, purpose, at, schedule=schedule)
    assert decision.allowed == reference_allowed(lead, purpose, at, schedule=schedule)
    for zone, text in decision.local_times.items():
        assert text == at.astimezone(ZoneInfo(zone)).isoformat()
    if decision.allowed:
        assert decision.reasons == ()
        assert decision.next_allowed_at == at
    else:
        assert decision.reasons


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(LEADS), st.sampled_from(PURPOSES), instants, st.sampled_from(SCHEDULES))
def test_allowed_means_every_zone_is_inside_every_window(
    lead: LeadInfo, purpose: str, at: datetime, schedule: WeeklyWindows | None
) -> None:
    _check_against_reference(lead, purpose, at, schedule)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(LEADS), st.sampled_from(PURPOSES), near_dst, st.sampled_from(SCHEDULES))
def test_no_decision_flips_wrongly_across_dst_changes(
    lead: LeadInfo, purpose: str, at: datetime, schedule: WeeklyWindows | None
) -> None:
    _check_against_reference(lead, purpose, at, schedule)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(LEADS),
    st.sampled_from(PURPOSES),
    st.one_of(instants, near_dst),
    st.sampled_from(SCHEDULES),
    st.lists(st.floats(0, 1), min_size=12, max_size=12),
)
def test_next_allowed_is_allowed_and_nothing_before_it_is(
    lead: LeadInfo,
    purpose: str,
    at: datetime,
    schedule: WeeklyWindows | None,
    fractions: list[float],
) -> None:
    decision = decide(lead, purpose, at, schedule=schedule)
    nxt = decision.next_allowed_at
    if decision.allowed:
        return
    end = nxt if nxt is not None else at + SEARCH_HORIZON
    if nxt is not None:
        assert at < nxt <= at + SEARCH_HORIZON
        assert decide(lead, purpose, nxt, schedule=schedule).allowed
        just_before = nxt - timedelta(seconds=1)
        assert not reference_allowed(lead, purpose, just_before, schedule=schedule)
    span = (end - at).total_seconds()
    for fraction in fractions:
        probe = at + timedelta(seconds=int(span * fraction))
        if probe < end:
            assert not reference_allowed(lead, purpose, probe, schedule=schedule), probe


# The shipped packs never open before 07:30, so DST gaps and repeats (01:00-03:00 local)
# cannot matter for them. A round-the-clock pack plus random campaign schedules puts window
# edges inside gaps and repeats, including zones that change at midnight or by 30 minutes.
ROUND_THE_CLOCK = RuleBook.from_texts(
    {
        "default.toml": """
id = "default"
name = "test: always open"
country = "*"
purposes = ["telemarketing", "survey", "debt_collection", "informational"]
[[rules]]
id = "default.hours"
kind = "window"
daily = [["00:00", "24:00"]]
confidence = "default"
source = "test"
"""
    }
)
EDGE_ZONES = [
    ("America/New_York",),
    ("America/Havana",),  # changes at 00:00 / 01:00
    ("America/Santiago",),  # changes at 24:00
    ("Australia/Lord_Howe",),  # 30-minute DST
    ("Europe/Paris", "America/New_York"),
    ("Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide"),
]
# Half of the window edges fall in the small hours, where DST changes happen.
quarter_hours = st.one_of(st.integers(0, 96), st.integers(0, 16)).map(lambda q: q * 900)
random_schedules = st.lists(
    st.tuples(st.integers(0, 6), quarter_hours, quarter_hours).filter(lambda t: t[1] < t[2]),
    min_size=1,
    max_size=10,
).map(
    lambda items: WeeklyWindows.from_json(
        {
            DAY_KEYS[d]: [[format_clock(s), format_clock(e)] for day, s, e in items if day == d]
            for d in {i[0] for i in items}
        }
    )
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(EDGE_ZONES), near_dst, random_schedules)
def test_dst_gaps_and_repeats_never_open_a_window_early_or_late(
    zones: tuple[str, ...], at: datetime, schedule: WeeklyWindows
) -> None:
    lead = LeadInfo("+99912345", None, None, zones)
    decision = decide(lead, "survey", at, schedule=schedule, rulebook=ROUND_THE_CLOCK)
    expected = reference_allowed(lead, "survey", at, schedule=schedule, book=ROUND_THE_CLOCK)
    assert decision.allowed == expected
    nxt = decision.next_allowed_at
    if decision.allowed or nxt is None:
        return
    assert decide(lead, "survey", nxt, schedule=schedule, rulebook=ROUND_THE_CLOCK).allowed
    for back in (1, 60, 900, 1800, 3600):
        probe = nxt - timedelta(seconds=back)
        if probe >= at:
            assert not reference_allowed(
                lead, "survey", probe, schedule=schedule, book=ROUND_THE_CLOCK
            ), probe
