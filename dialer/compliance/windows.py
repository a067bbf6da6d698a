"""Weekly calling windows in local wall time: the shape shared by rule packs and campaigns.

A ``WeeklyWindows`` says, for each day of the week, during which local wall-clock intervals
calls are allowed. It is the JSON stored in ``campaigns.schedule`` and the building block of
every hours/days rule in a rule pack::

    {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}

Keys are ``mon`` .. ``sun``; a missing day means no calls that day. Times are ``HH:MM`` or
``HH:MM:SS``; intervals are half-open ``[start, end)`` and ``end`` may be ``24:00``.
Overlapping or touching intervals are merged, so two equal schedules compare equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

DAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 86_400

Interval = tuple[int, int]
DayIntervals = tuple[Interval, ...]


def parse_clock(text: object, *, is_end: bool = False) -> int:
    """``"HH:MM"`` / ``"HH:MM:SS"`` → seconds after midnight; ``24:00`` only as an end."""
    if not isinstance(text, str):
        raise ValueError(f"time must be a string like '09:00', got {text!r}")
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise ValueError(f"bad time {text!r} (use HH:MM or HH:MM:SS)")
    hours, minutes = int(parts[0]), int(parts[1])
    seconds = int(parts[2]) if len(parts) == 3 else 0
    if minutes > 59 or seconds > 59 or hours > 24:
        raise ValueError(f"bad time {text!r}")
    total = hours * 3600 + minutes * 60 + seconds
    if total > DAY_SECONDS or (total == DAY_SECONDS and not is_end):
        raise ValueError(f"bad time {text!r} (24:00 is only allowed as an end)")
    return total


def format_clock(seconds: int) -> str:
    """Seconds after midnight → ``HH:MM`` (or ``HH:MM:SS`` when seconds are not zero)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _normalise(intervals: Iterable[Interval]) -> DayIntervals:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _intersect_day(a: DayIntervals, b: DayIntervals) -> DayIntervals:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _complement_day(day: DayIntervals) -> DayIntervals:
    out: list[Interval] = []
    cursor = 0
    for start, end in day:
        if start > cursor:
            out.append((cursor, start))
        cursor = end
    if cursor < DAY_SECONDS:
        out.append((cursor, DAY_SECONDS))
    return tuple(out)


def _parse_day(key: str, value: object) -> DayIntervals:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError(f"{key}: expected a list of [start, end] pairs, got {value!r}")
    intervals: list[Interval] = []
    for index, pair in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"{where}: expected [start, end], got {pair!r}")
        try:
            start = parse_clock(pair[0])
            end = parse_clock(pair[1], is_end=True)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if start >= end:
            raise ValueError(f"{where}: start {pair[0]} is not before end {pair[1]}")
        intervals.append((start, end))
    return _normalise(intervals)


@dataclass(frozen=True, slots=True)
class WeeklyWindows:
    """Allowed local wall-clock intervals per weekday (index 0 = Monday), in seconds."""

    days: tuple[DayIntervals, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError("WeeklyWindows needs exactly 7 days")

    @classmethod
    def from_json(cls, obj: object) -> WeeklyWindows:
        """Parse ``{"mon": [["09:00", "17:00"]], ...}``; ``ValueError`` names the bad part."""
        if not isinstance(obj, Mapping):
            raise ValueError(f"schedule must be an object keyed by mon..sun, got {obj!r}")
        days: list[DayIntervals] = [()] * 7
        for key, value in obj.items():
            if key not in DAY_KEYS:
                raise ValueError(f"unknown day {key!r} (use {', '.join(DAY_KEYS)})")
            days[DAY_KEYS.index(key)] = _parse_day(key, value)
        return cls(tuple(days))

    @classmethod
    def every_day(cls, intervals: Iterable[Interval]) -> WeeklyWindows:
        """The same intervals (in seconds) on all seven days."""
        day = _normalise(intervals)
        return cls((day,) * 7)

    @classmethod
    def always(cls) -> WeeklyWindows:
        return cls((((0, DAY_SECONDS),),) * 7)

    def to_json(self) -> dict[str, list[list[str]]]:
        """The JSON shape accepted by ``from_json`` (days without calls are omitted)."""
        return {
            DAY_KEYS[i]: [[format_clock(s), format_clock(e)] for s, e in day]
            for i, day in enumerate(self.days)
            if day
        }

    def contains(self, when: datetime) -> bool:
        """Is this wall-clock time (naive, or aware in the callee's zone) inside a window?"""
        seconds = when.hour * 3600 + when.minute * 60 + when.second
        return self.contains_seconds(when.weekday(), seconds)

    def contains_seconds(self, weekday: int, seconds: int) -> bool:
        return any(start <= seconds < end for start, end in self.days[weekday])

    def intersect(self, other: WeeklyWindows) -> WeeklyWindows:
        return WeeklyWindows(
            tuple(_intersect_day(a, b) for a, b in zip(self.days, other.days, strict=True))
        )

    def complement(self) -> WeeklyWindows:
        return WeeklyWindows(tuple(_complement_day(day) for day in self.days))

    def without_days(self, weekdays: Iterable[int]) -> WeeklyWindows:
        closed = set(weekdays)
        return WeeklyWindows(tuple(() if i in closed else d for i, d in enumerate(self.days)))

    def is_subset_of(self, other: WeeklyWindows) -> bool:
        return self.intersect(other) == self

    def describe_day(self, weekday: int) -> str:
        """``"08:00-21:00"`` / ``"10:00-13:00, 14:00-20:00"`` / ``"no calls"``."""
        day = self.days[weekday]
        if not day:
            return "no calls"
        return ", ".join(f"{format_clock(s)}-{format_clock(e)}" for s, e in day)

    def describe(self) -> str:
        """Compact week summary, grouping consecutive days with equal windows."""
        groups: list[tuple[int, int]] = []
        for i in range(7):
            if groups and self.days[groups[-1][0]] == self.days[i]:
                groups[-1] = (groups[-1][0], i)
            else:
                groups.append((i, i))
        parts = []
        for first, last in groups:
            label = DAY_KEYS[first] if first == last else f"{DAY_KEYS[first]}-{DAY_KEYS[last]}"
            parts.append(f"{label.title()} {self.describe_day(first)}")
        return "; ".join(parts)
