"""Jinja filters: how the console writes times, rates and durations."""

from __future__ import annotations

from datetime import datetime, tzinfo
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


def clock(moment: datetime | None, zone: tzinfo | None = None, fmt: str = "%H:%M:%S") -> str:
    """A time of day (in ``zone`` when given): ``14:02:31``."""
    if moment is None:
        return "—"
    return (moment.astimezone(zone) if zone else moment).strftime(fmt)


def seconds(value: float | None) -> str:
    """A short span: ``45 s``, ``3 min 05 s``, ``2 h 10 min``."""
    if value is None:
        return "—"
    whole = round(value)
    if whole < 60:
        return f"{value:.1f} s" if value < 10 and value != whole else f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def since(moment: datetime | None, now: datetime) -> str:
    """How long ago ``moment`` was, as ``seconds`` writes it."""
    return "—" if moment is None else seconds(round(max((now - moment).total_seconds(), 0)))


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
        clock=clock,
        seconds=seconds,
    )
    env.globals["since"] = since
    # ``tojson`` writes dates and decimals as the API does (ISO 8601), still HTML-safe.
    env.policies["json.dumps_function"] = _api_dumps


def _api_dumps(data: Any, **_: Any) -> str:
    from dialer.http.jsonio import dumps

    return dumps(data)
