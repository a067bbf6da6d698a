"""WeeklyWindows: the JSON shape campaigns store and packs use, parsed strictly."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.compliance import WeeklyWindows


def test_parses_the_campaign_schedule_shape_and_round_trips() -> None:
    obj = {"mon": [["09:00", "12:00"], ["13:00", "17:30"]], "sat": [["10:00:30", "24:00"]]}
    windows = WeeklyWindows.from_json(obj)
    assert windows.to_json() == obj
    assert WeeklyWindows.from_json(windows.to_json()) == windows


def test_missing_day_means_no_calls_and_intervals_are_half_open() -> None:
    windows = WeeklyWindows.from_json({"mon": [["09:00", "17:00"]]})
    monday = datetime(2026, 7, 6)
    assert not windows.contains(monday.replace(hour=8, minute=59, second=59))
    assert windows.contains(monday.replace(hour=9))
    assert windows.contains(monday.replace(hour=16, minute=59, second=59))
    assert not windows.contains(monday.replace(hour=17))
    assert not windows.contains(datetime(2026, 7, 7, 12))  # Tuesday: not listed


def test_aware_datetimes_are_read_on_their_own_wall_clock() -> None:
    windows = WeeklyWindows.from_json({"wed": [["08:00", "20:00"]]})
    paris = datetime(2026, 7, 1, 19, 59, 59, tzinfo=ZoneInfo("Europe/Paris"))
    assert windows.contains(paris)
    assert not windows.contains(paris.replace(hour=20, second=0))


def test_end_of_day_is_24_00() -> None:
    windows = WeeklyWindows.from_json({"fri": [["22:00", "24:00"]]})
    assert windows.contains(datetime(2026, 7, 3, 23, 59, 59))


def test_overlapping_intervals_are_merged() -> None:
    a = WeeklyWindows.from_json({"mon": [["09:00", "12:00"], ["11:00", "14:00"]]})
    assert a == WeeklyWindows.from_json({"mon": [["09:00", "14:00"]]})


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ({"monday": [["09:00", "17:00"]]}, "unknown day 'monday'"),
        ({"mon": [["9:00", "17:00"]]}, "mon[0]: bad time '9:00'"),
        ({"mon": [["25:00", "26:00"]]}, "mon[0]: bad time '25:00'"),
        ({"mon": [["09:60", "17:00"]]}, "mon[0]: bad time '09:60'"),
        ({"mon": [["17:00", "09:00"]]}, "mon[0]: start 17:00 is not before end 09:00"),
        ({"mon": [["24:00", "24:00"]]}, "mon[0]"),
        ({"tue": [["09:00"]]}, "tue[0]: expected [start, end]"),
        ({"tue": "09:00-17:00"}, "tue: expected a list"),
        ({"wed": [[9, 17]]}, "wed[0]: time must be a string"),
        ([["09:00", "17:00"]], "schedule must be an object"),
    ],
)
def test_bad_schedules_name_the_bad_part(obj: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        WeeklyWindows.from_json(obj)
    assert fragment in str(info.value)


def test_intersection_and_complement() -> None:
    hours = WeeklyWindows.every_day([(10 * 3600, 20 * 3600)])
    lunch = WeeklyWindows.every_day([(13 * 3600, 14 * 3600)]).complement()
    both = hours.intersect(lunch)
    assert both.to_json()["mon"] == [["10:00", "13:00"], ["14:00", "20:00"]]
    assert both.is_subset_of(hours)
    assert not hours.is_subset_of(both)


def test_describe_groups_equal_days() -> None:
    windows = WeeklyWindows.from_json(
        {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
        | {"sun": [["12:00", "21:00"]]}
    )
    assert windows.describe() == "Mon-Sat 09:00-21:00; Sun 12:00-21:00"
