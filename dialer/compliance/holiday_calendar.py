"""Holiday calendars for "no calls on public holidays" rules, backed by the ``holidays`` package.

A calendar is a country (+ optional subdivision) from ``holidays``, optionally filtered to
named holidays (substring match, so "Independence Day" also matches "Independence Day
(observed)"), plus the holidays a pack lists itself as its statute names them
(``holiday_days.HolidayDay``: date rule + the statute's observance shifts), plus fixed extra
dates (``"01-08"`` every year, or one ``"2026-12-26"``). A calendar may have no country:
then only the pack's own days and extra dates count. Dates are computed per year on first
use and cached for the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import holidays

from dialer.compliance.holiday_days import HolidayDay


@cache
def supported_countries() -> dict[str, tuple[str, ...]]:
    """Countries the ``holidays`` package knows, with their subdivision codes."""
    return {c: tuple(s) for c, s in holidays.list_supported_countries().items()}


@cache
def _year_holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return {d: str(name) for d, name in calendar.items()}


def parse_extra_date(text: str) -> tuple[int | None, int, int]:
    """``"MM-DD"`` (every year) or ``"YYYY-MM-DD"`` → (year or None, month, day)."""
    parts = text.split("-")
    try:
        if len(parts) == 2:
            month, day = int(parts[0]), int(parts[1])
            date(2000, month, day)  # leap year: validates 02-29 too
            return None, month, day
        if len(parts) == 3:
            parsed = date.fromisoformat(text)
            return parsed.year, parsed.month, parsed.day
    except ValueError:
        pass
    raise ValueError(f"bad date {text!r} (use MM-DD or YYYY-MM-DD)")


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """Dates on which a holiday rule bans calls."""

    country: str | None
    subdivision: str | None = None
    names: tuple[str, ...] = ()
    extra_dates: tuple[str, ...] = ()
    days: tuple[HolidayDay, ...] = ()

    def validate(self) -> None:
        """``ValueError`` if the country/subdivision is unknown or an extra date is bad."""
        for text in self.extra_dates:
            parse_extra_date(text)
        if self.country is None:
            if self.subdivision is not None or self.names:
                raise ValueError("subdivision and names need a country")
            return
        supported = supported_countries()
        if self.country not in supported:
            raise ValueError(f"country {self.country!r} is not known to the holidays package")
        if self.subdivision is not None and self.subdivision not in supported[self.country]:
            raise ValueError(
                f"subdivision {self.subdivision!r} is not known for {self.country} "
                f"(known: {', '.join(supported[self.country]) or 'none'})"
            )

    def dates(self, year: int) -> dict[date, str]:
        """Holiday dates of ``year`` with their names, after the name filter and extras."""
        return _dates(self, year)

    def contains(self, day: date) -> bool:
        return day in _dates(self, day.year)

    def describe(self) -> str:
        parts = []
        if self.country is not None:
            where = self.country + (f"-{self.subdivision}" if self.subdivision else "")
            text = f"public holidays of {where} (holidays package)"
            if self.names:
                text += f", only: {', '.join(self.names)}"
            parts.append(text)
        if self.days:
            parts.append("the statute's holidays: " + "; ".join(d.describe() for d in self.days))
        text = ", plus ".join(parts) or "no holidays"
        if self.extra_dates:
            text += f"; plus {', '.join(self.extra_dates)}"
        return text


@cache
def _dates(calendar: HolidayCalendar, year: int) -> dict[date, str]:
    found: dict[date, str] = {}
    if calendar.country is not None:
        found = _year_holidays(calendar.country, calendar.subdivision, year)
    if calendar.names:
        wanted = [n.lower() for n in calendar.names]
        found = {d: n for d, n in found.items() if any(w in n.lower() for w in wanted)}
    result = dict(found)
    for listed in calendar.days:
        for when, name in listed.dates(year).items():
            result.setdefault(when, name)
    for text in calendar.extra_dates:
        only_year, month, day = parse_extra_date(text)
        if only_year in (None, year):
            try:
                result.setdefault(date(year, month, day), f"extra date {text}")
            except ValueError:  # 02-29 in a common year
                continue
    return result
