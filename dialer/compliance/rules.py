"""The rule kinds a rule pack can contain, and their validation from TOML tables.

Every rule has an ``id`` (``<pack>.<name>``, the id shown in a blocked decision), the
purposes it applies to, a ``source`` citation and a ``confidence`` saying how well that
source was checked. Kinds:

* ``window``      calls only inside weekly local intervals (``daily`` or ``weekly``)
* ``closed_days`` no calls on these weekdays (``days = ["sun"]``)
* ``blackout``    no calls inside these local intervals (a lunch break)
* ``holidays``    no calls on the holidays of a calendar (``holidays`` package + extra dates)
* ``cap``         at most ``max_calls`` attempts within ``per`` (history-based)
* ``cooldown``    no call within ``duration`` after a conversation / an abandoned call
* ``preference``  the number's registered preference (categories, time bands and days),
                  when one is known; a time rule with ``unless_preference = true`` is the
                  default that the registered bands replace
* ``consent`` / ``reassigned``  what consent a call needs (``compliance.consent``)

The first four are *time rules*: each reduces to "allowed weekly intervals minus holiday
dates" on a clock (the callee's zones unless ``clock`` names a fixed IANA zone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.compliance.holiday_calendar import HolidayCalendar
from dialer.compliance.holiday_days import HolidayDay, parse_day
from dialer.compliance.windows import DAY_KEYS, WeeklyWindows

PURPOSES: tuple[str, ...] = ("telemarketing", "survey", "debt_collection", "informational")
OUTCOMES: tuple[str, ...] = (
    "no_answer", "busy", "failed", "machine", "human", "abandoned", "completed", "unknown",
)  # fmt: skip
CONFIDENCE: tuple[str, ...] = ("verified", "secondary", "unverified", "default")
TIME_KINDS = ("window", "closed_days", "blackout", "holidays")
KINDS = (*TIME_KINDS, "cap", "cooldown", "preference", "consent", "reassigned")
SCOPES = ("same_campaign", "all")
_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")


class PackError(ValueError):
    """A rule pack is invalid; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class DncPolicy:
    """When a DNC-listed number may still be called: only with consent, for these purposes.

    Sources in ``never_exempt_sources`` (default: ``internal``, the callee's own request to
    this client) are never lifted by consent. ``relationship_sources``: registries a call
    for ``relationship_purposes`` may still reach under an established business relationship
    (a purchase within ``ebr_purchase_months``, an inquiry within ``ebr_inquiry_months``) or
    the callee's express written permission (``relationship_source`` cites it).
    """

    consent_exempt_purposes: frozenset[str]
    never_exempt_sources: frozenset[str]
    source: str
    relationship_sources: frozenset[str] = frozenset()
    relationship_purposes: frozenset[str] = frozenset()
    ebr_purchase_months: int = 0
    ebr_inquiry_months: int = 0
    relationship_source: str = ""


def parse_duration(text: object) -> timedelta:
    """``"72h"`` / ``"7d"`` / ``"90m"`` → timedelta."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"bad duration {text!r} (use e.g. '24h', '7d', '90m')")
    amount, unit = int(match.group(1)), match.group(2)
    delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount)}.get(unit)
    return delta if delta is not None else timedelta(days=amount)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0 and seconds > 86400:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


@dataclass(frozen=True, kw_only=True)
class Rule:
    """What every rule has."""

    id: str
    kind: str
    title: str
    purposes: frozenset[str]
    source: str
    confidence: str
    exempt_with_consent: bool = False
    unless_preference: bool = False

    def describe(self) -> str:
        """One line saying what the rule does (``dialer rules show``)."""
        return self.title


@dataclass(frozen=True, kw_only=True)
class PreferenceRule(Rule):
    """A number's registered categories / time bands / days, applied when they are known."""

    def describe(self) -> str:
        return "the number's registered preference: categories, time bands and days"


@dataclass(frozen=True, kw_only=True)
class TimeRule(Rule):
    """Allowed weekly local intervals, minus holiday dates, on the callee's (or a fixed) clock."""

    allowed: WeeklyWindows
    holidays: HolidayCalendar | None = None
    holidays_by_region: tuple[tuple[str, HolidayCalendar], ...] = ()
    clock: str | None = None

    def calendar_for(self, region: str | None) -> HolidayCalendar | None:
        for reg, calendar in self.holidays_by_region:
            if reg == region:
                return calendar
        return self.holidays

    def describe(self) -> str:
        where = f" ({self.clock} clock)" if self.clock else ""
        if self.kind == "holidays" and self.holidays is not None:
            return f"no calls on {self.holidays.describe()}"
        if self.kind == "closed_days":
            closed = [DAY_KEYS[i].title() for i, d in enumerate(self.allowed.days) if not d]
            return f"no calls on {', '.join(closed)}"
        if self.kind == "blackout":
            return f"no calls {self.allowed.complement().describe()}{where}"
        return f"calls only {self.allowed.describe()}{where}"


@dataclass(frozen=True, kw_only=True)
class CapRule(Rule):
    """At most ``max_calls`` attempts within any ``per`` period (the next one is blocked)."""

    max_calls: int
    per: timedelta
    scope: str
    count_purposes: frozenset[str]
    count_outcomes: frozenset[str] | None = None

    def describe(self) -> str:
        scope = "same campaign/subject" if self.scope == "same_campaign" else "any campaign"
        return f"at most {self.max_calls} calls per {format_duration(self.per)} ({scope})"


@dataclass(frozen=True, kw_only=True)
class CooldownRule(Rule):
    """No call within ``duration`` after a conversation / an abandoned call."""

    after: str
    duration: timedelta
    scope: str
    count_purposes: frozenset[str]
    lifted_by_agent_guarantee: bool = False

    def describe(self) -> str:
        text = f"no call within {format_duration(self.duration)} after a {self.after} call"
        if self.after == "conversation":
            text = f"no call within {format_duration(self.duration)} after a conversation"
        if self.lifted_by_agent_guarantee:
            text += " unless a live agent is guaranteed"
        return text


class _Fields:
    """Typed access to one TOML table with error messages naming the field."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw, self.where = raw, where
        self.used: set[str] = set()

    def error(self, key: str, message: str) -> PackError:
        return PackError(f"{self.where}.{key}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., /) -> Any:
        self.used.add(key)
        if key not in self.raw:
            if default is ...:
                raise PackError(f"{self.where}: missing field {key!r}")
            return default
        value = self.raw[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.error(key, f"expected {names}, got {value!r}")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not None and value not in options:
            raise self.error(key, f"{value!r} is not one of {', '.join(options)}")
        return value

    def str_list(self, key: str, options: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        value = self.get(key, list, None)
        if value is None:
            return None
        for item in value:
            if not isinstance(item, str) or (options is not None and item not in options):
                allowed = f" (one of {', '.join(options)})" if options else ""
                raise self.error(key, f"bad entry {item!r}{allowed}")
        return tuple(value)

    def finish(self) -> None:
        unknown = sorted(set(self.raw) - self.used)
        if unknown:
            raise PackError(f"{self.where}: unknown field(s) {', '.join(unknown)}")


def _windows(f: _Fields) -> WeeklyWindows:
    has_weekly, has_daily = "weekly" in f.raw, "daily" in f.raw
    if has_weekly == has_daily:
        raise PackError(f"{f.where}: give exactly one of 'weekly' or 'daily'")
    try:
        if has_weekly:
            return WeeklyWindows.from_json(f.get("weekly", dict))
        return WeeklyWindows.from_json(dict.fromkeys(DAY_KEYS, f.get("daily", list)))
    except ValueError as exc:
        if has_weekly:
            raise f.error("weekly", str(exc)) from None
        message = str(exc)  # "mon[0]: bad time '25:00'" -> "daily[0]: bad time '25:00'"
        rest = message[3:] if message.startswith("mon") else f": {message}"
        raise PackError(f"{f.where}.daily{rest}") from None


def _clock(f: _Fields) -> str | None:
    clock: str | None = f.get("clock", str, None)
    if clock is not None:
        try:
            ZoneInfo(clock)
        except (ZoneInfoNotFoundError, ValueError):
            raise f.error("clock", f"unknown IANA zone {clock!r}") from None
    return clock


def _calendar(f: _Fields, key: str, text: str) -> HolidayCalendar:
    country, _, sub = text.partition("-")
    calendar = HolidayCalendar(country, sub or None)
    try:
        calendar.validate()
    except ValueError as exc:
        raise f.error(key, str(exc)) from None
    return calendar


def _days(f: _Fields) -> tuple[HolidayDay, ...]:
    found = []
    for i, raw in enumerate(f.get("days", list, [])):
        try:
            found.append(parse_day(raw))
        except ValueError as exc:
            raise f.error(f"days[{i}]", str(exc)) from None
    return tuple(found)


def _holidays(f: _Fields) -> tuple[HolidayCalendar, tuple[tuple[str, HolidayCalendar], ...]]:
    names = f.str_list("names") or ()
    extra = f.str_list("extra_dates") or ()
    days = _days(f)
    country = f.get("country", str, None)
    if country is None and not days and not extra:
        raise PackError(f"{f.where}: a holidays rule needs 'country', 'days' or 'extra_dates'")
    subdivision = f.get("subdivision", str, None)
    calendar = HolidayCalendar(country, subdivision, names, extra, days)
    try:
        HolidayCalendar(calendar.country).validate()
    except ValueError as exc:
        raise f.error("country", str(exc)) from None
    try:
        calendar.validate()
    except ValueError as exc:
        raise f.error("extra_dates" if "date" in str(exc) else "subdivision", str(exc)) from None
    by_region = []
    for region, text in f.get("by_region", dict, {}).items():
        if not isinstance(text, str):
            raise f.error(f"by_region.{region}", f"expected 'CC' or 'CC-SUB', got {text!r}")
        base = _calendar(f, f"by_region.{region}", text)
        by_region.append(
            (region, HolidayCalendar(base.country, base.subdivision, names, extra, days))
        )
    return calendar, tuple(by_region)


def _time_rule(f: _Fields, common: dict[str, Any]) -> TimeRule:
    kind = common["kind"]
    if kind == "holidays":
        calendar, by_region = _holidays(f)
        allowed = WeeklyWindows.always()
        return TimeRule(**common, allowed=allowed, holidays=calendar, holidays_by_region=by_region)
    if kind == "closed_days":
        days = f.str_list("days", DAY_KEYS)
        if not days:
            raise PackError(f"{f.where}: missing field 'days'")
        allowed = WeeklyWindows.always().without_days(DAY_KEYS.index(d) for d in days)
        return TimeRule(**common, allowed=allowed)
    windows = _windows(f)
    allowed = windows if kind == "window" else windows.complement()
    return TimeRule(**common, allowed=allowed, clock=_clock(f))


def _counted_purposes(f: _Fields, purposes: frozenset[str]) -> frozenset[str]:
    counted = f.str_list("count_purposes", PURPOSES)
    return frozenset(counted) if counted is not None else purposes


def _duration(f: _Fields, key: str) -> timedelta:
    try:
        value = parse_duration(f.get(key, str))
    except ValueError as exc:
        raise f.error(key, str(exc)) from None
    if value <= timedelta(0):
        raise f.error(key, "must be positive")
    return value


def _history_rule(f: _Fields, common: dict[str, Any]) -> CapRule | CooldownRule:
    scope = f.choice("scope", SCOPES)
    counted = _counted_purposes(f, common["purposes"])
    if common["kind"] == "cap":
        max_calls = f.get("max_calls", int)
        if max_calls < 1:
            raise f.error("max_calls", "must be at least 1")
        outcomes = f.str_list("count_outcomes", OUTCOMES)
        return CapRule(
            **common,
            max_calls=max_calls,
            per=_duration(f, "per"),
            scope=scope,
            count_purposes=counted,
            count_outcomes=frozenset(outcomes) if outcomes is not None else None,
        )
    return CooldownRule(
        **common,
        after=f.choice("after", ("conversation", "abandoned")),
        duration=_duration(f, "duration"),
        scope=scope,
        count_purposes=counted,
        lifted_by_agent_guarantee=f.get("lifted_by_agent_guarantee", bool, False),
    )


def parse_rule(
    raw: Mapping[str, Any], *, pack_id: str, pack_purposes: frozenset[str], where: str
) -> Rule:
    """Validate one ``[[rules]]`` table of pack ``pack_id``; ``PackError`` names the field."""
    f = _Fields(raw, where)
    rule_id = f.get("id", str)
    if not _RULE_ID.match(rule_id) or not rule_id.startswith(f"{pack_id}."):
        raise f.error("id", f"{rule_id!r} must look like '{pack_id}.<name>' (a-z, 0-9, -)")
    kind = f.choice("kind", KINDS)
    purposes = f.str_list("purposes", PURPOSES)
    if purposes is not None and not set(purposes) <= pack_purposes:
        raise f.error("purposes", "a rule can only narrow the pack's purposes")
    source = f.get("source", str)
    if not source.strip():
        raise f.error("source", "every rule needs a source citation")
    common = {
        "id": rule_id,
        "kind": kind,
        "title": f.get("title", str, rule_id),
        "purposes": frozenset(purposes) if purposes is not None else pack_purposes,
        "source": source.strip(),
        "confidence": f.choice("confidence", CONFIDENCE),
        "exempt_with_consent": f.get("exempt_with_consent", bool, False),
        "unless_preference": f.get("unless_preference", bool, False),
    }
    f.get("note", str, None)
    rule: Rule
    if kind in ("consent", "reassigned"):
        from dialer.compliance.consent import parse_consent_rule  # it builds on Rule

        rule = parse_consent_rule(f, common)
    elif kind == "preference":
        rule = PreferenceRule(**common)
    elif kind in TIME_KINDS:
        rule = _time_rule(f, common)
    else:
        rule = _history_rule(f, common)
    f.finish()
    return rule
