"""Jinja filters: how the console writes times, rates and durations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2

ABANDON_WARNING = 0.025  # abandon rate shown in red from here (the legal limit is 3 %)


def when(moment: datetime | str | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """``Mon 05 Jan 2026, 15:00 UTC`` (aware datetimes keep their own zone's name)."""
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    zone = moment.tzname() or ""
    if zone and not zone[0].isalpha():
        zone = "UTC" + zone  # zones without an abbreviation report "+0530": say UTC+0530
    return f"{moment.strftime(fmt)} {zone}".strip()


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def duration(seconds: float | None) -> str:
    """Seconds → ``15m``, ``2h``, ``3d`` (the largest unit that divides it), ``90s``."""
    if seconds is None:
        return ""
    whole = int(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def abandon_class(rate: float | None) -> str:
    """CSS class of an abandon-rate cell: red at or above the warning level."""
    return "is-over" if rate is not None and rate >= ABANDON_WARNING else ""


def humanise(value: Any) -> str:
    """``debt_collection`` → ``Debt collection``."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def register(env: jinja2.Environment) -> None:
    env.filters.update(
        when=when,
        percent=percent,
        count=count,
        duration=duration,
        abandon_class=abandon_class,
        humanise=humanise,
    )
