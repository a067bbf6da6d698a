"""Holidays as a statute lists them: a date rule plus the statute's own observance shifts.

A pack whose statute names its holidays lists them itself (``[[rules.days]]``) instead of
borrowing a calendar: states move a weekend holiday differently (Alabama: a Saturday holiday
is held on the Friday *instead*; Utah: 19 June falling Tuesday-Friday is held on the
preceding Monday), and a borrowed federal calendar gets those days wrong. Each day is

* a fixed date (``date = "06-19"``), the n-th weekday of a month (``month = 1``,
  ``weekday = "mon"``, ``week = 3``; ``week = -1`` is the last), or an offset from Western
  Easter Sunday (``easter = -2`` is Good Friday);
* moved by ``observed = { sat = "previous fri", sun = "next mon" }`` when the date falls on
  one of those weekdays. The observed day *replaces* the date (as the statutes word it:
  "the preceding Friday is the legal holiday") unless ``keep_actual = true``;
  ``only_moved = true`` keeps only a moved day (a house rule adding the Friday/Monday
  observance on top of a statute that keeps the date);
* optionally limited to years (``since = 2026``, ``until = 2030``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.easter import easter

from dialer.compliance.windows import DAY_KEYS

_NO_SHIFT = (0, 0, 0, 0, 0, 0, 0)


def _shift_to(from_weekday: int, text: object) -> int:
    """``"previous fri"`` / ``"next mon"`` from a date on ``from_weekday`` → days to move."""
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 2 or parts[0] not in ("previous", "next") or parts[1] not in DAY_KEYS:
        raise ValueError(f"bad observed day {text!r} (use e.g. 'previous fri' or 'next mon')")
    target = DAY_KEYS.index(parts[1])
    if parts[0] == "next":
        return (target - from_weekday - 1) % 7 + 1
    return -((from_weekday - target - 1) % 7 + 1)


@dataclass(frozen=True, slots=True)
class HolidayDay:
    """One holiday a statute names, and how its observed day is found."""

    name: str
    month: int = 0
    day: int = 0
    weekday: int | None = None  # with ``week``: the n-th weekday of ``month``
    week: int = 0
    easter_offset: int | None = None
    shifts: tuple[int, ...] = _NO_SHIFT  # per weekday of the date: days to move it
    keep_actual: bool = False
    only_moved: bool = False
    since: int | None = None
    until: int | None = None

    def actual(self, year: int) -> date | None:
        """The date the statute names in ``year`` (before any observance shift)."""
        if self.since is not None and year < self.since:
            return None
        if self.until is not None and year > self.until:
            return None
        if self.easter_offset is not None:
            return easter(year) + timedelta(days=self.easter_offset)
        if self.weekday is None:
            try:
                return date(year, self.month, self.day)
            except ValueError:  # 02-29 in a common year
                return None
        if self.week > 0:
            first = date(year, self.month, 1)
            offset = (self.weekday - first.weekday()) % 7 + 7 * (self.week - 1)
            return first + timedelta(days=offset)
        following = date(year + self.month // 12, self.month % 12 + 1, 1)
        last = following - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - self.weekday) % 7)

    def dates(self, year: int) -> dict[date, str]:
        """The day(s) this holiday bans calls in ``year``: the observed day, plus the date
        itself when ``keep_actual``. A shift can cross New Year (1 Jan on a Saturday is held
        on 31 December), so the neighbouring years are looked at too."""
        found: dict[date, str] = {}
        for y in (year - 1, year, year + 1):
            actual = self.actual(y)
            if actual is None:
                continue
            shift = self.shifts[actual.weekday()]
            observed = actual + timedelta(days=shift)
            if observed.year == year and (shift or not self.only_moved):
                found[observed] = self.name if shift == 0 else f"{self.name} (observed)"
            if shift and self.keep_actual and actual.year == year:
                found.setdefault(actual, self.name)
        return found

    def describe(self) -> str:
        if self.easter_offset is not None:
            when = f"Easter {self.easter_offset:+d} days" if self.easter_offset else "Easter Sunday"
        elif self.weekday is None:
            when = f"{self.month:02d}-{self.day:02d}"
        else:
            nth = "last" if self.week < 0 else f"#{self.week}"
            when = f"{nth} {DAY_KEYS[self.weekday]} of month {self.month}"
        moved = [f"{DAY_KEYS[i]}{s:+d}d" for i, s in enumerate(self.shifts) if s]  # e.g. sat-1d
        text = f"{self.name} ({when}"
        if moved:
            text += "; observed " + ", ".join(moved)
        return text + ")"


def _int(raw: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{key}: expected a whole number {low}..{high}, got {value!r}")
    return value


_KEYS = {"name", "date", "month", "weekday", "week", "easter", "observed", "keep_actual"}
_KEYS |= {"only_moved"}
_KEYS |= {"since", "until", "source"}


def _date_rule(raw: Mapping[str, Any]) -> dict[str, Any]:
    forms = [k for k in ("date", "weekday", "easter") if k in raw]
    if len(forms) != 1:
        raise ValueError("give exactly one of 'date', 'weekday' (with month, week), 'easter'")
    if forms[0] == "easter":
        return {"easter_offset": _int(raw, "easter", -60, 60)}
    if forms[0] == "weekday":
        if raw["weekday"] not in DAY_KEYS:
            raise ValueError(f"weekday: {raw['weekday']!r} is not one of {', '.join(DAY_KEYS)}")
        week = _int(raw, "week", -1, 5)
        if week == 0:
            raise ValueError("week: use 1..5, or -1 for the last")
        return {
            "month": _int(raw, "month", 1, 12),
            "weekday": DAY_KEYS.index(raw["weekday"]),
            "week": week,
        }
    text = raw["date"]
    try:
        month_text, day_text = text.split("-")
        date(2000, int(month_text), int(day_text))  # a leap year: 02-29 is valid
    except (ValueError, AttributeError):
        raise ValueError(f"date: bad date {text!r} (use MM-DD)") from None
    return {"month": int(month_text), "day": int(day_text)}


def parse_day(raw: object) -> HolidayDay:
    """One ``[[rules.days]]`` table → ``HolidayDay``; ``ValueError`` naming the field."""
    if not isinstance(raw, dict):
        raise ValueError("expected a table")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name: every holiday needs a name")
    fields = _date_rule(raw)
    observed = raw.get("observed", {})
    if not isinstance(observed, dict) or not set(observed) <= set(DAY_KEYS):
        raise ValueError(f"observed: expected {{weekday = 'previous fri'}}, got {observed!r}")
    shifts = tuple(
        _shift_to(i, observed[key]) if key in observed else 0 for i, key in enumerate(DAY_KEYS)
    )
    keep, moved = raw.get("keep_actual", False), raw.get("only_moved", False)
    if not isinstance(keep, bool) or not isinstance(moved, bool):
        raise ValueError("keep_actual, only_moved: expected true or false")
    since = _int(raw, "since", 1900, 2200) if "since" in raw else None
    until = _int(raw, "until", 1900, 2200) if "until" in raw else None
    return HolidayDay(
        name=name.strip(),
        shifts=shifts,
        keep_actual=keep,
        only_moved=moved,
        since=since,
        until=until,
        **fields,
    )
