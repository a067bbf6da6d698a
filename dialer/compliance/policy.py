"""A compiled policy: the rules for one (place, purpose, schedule, waivers), ready to evaluate.

Time rules are folded per clock into one *layer*: the intersection of their weekly windows
plus the union of their holiday dates, so the common "is it allowed now?" question costs one
local-time conversion and one interval lookup per zone. Only when a call is blocked are the
rules evaluated one by one, to name every rule that blocked.

``next_time_allowed`` searches real UTC instants: the only instants at which a blocked call
can become allowed are window starts (both readings of an ambiguous local time) and DST
transitions, in any of the callee's zones. Each candidate, in time order, is verified with the
same check as a live decision, so a DST gap or repeat can never yield a call outside a window.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.compliance.consent import ConsentRule, combine_dnc
from dialer.compliance.holiday_calendar import HolidayCalendar
from dialer.compliance.rules import (
    CapRule,
    CooldownRule,
    DncPolicy,
    PreferenceRule,
    Rule,
    TimeRule,
)
from dialer.compliance.windows import DAY_KEYS, WeeklyWindows

CAMPAIGN_RULE_ID = "campaign.schedule"
_DAY_CACHE_LIMIT = 20_000
_YEAR_CACHE_LIMIT = 512


@dataclass(eq=False)
class Layer:
    """All time rules on one clock, folded: allowed intervals intersected, holiday dates united."""

    clock: ZoneInfo | None
    allowed: WeeklyWindows
    calendars: tuple[HolidayCalendar, ...]
    _holidays_by_year: dict[int, frozenset[date]] = field(default_factory=dict)
    _candidates: dict[tuple[str, int], list[datetime]] = field(default_factory=dict)

    def is_holiday(self, day: date) -> bool:
        if not self.calendars:
            return False
        dates = self._holidays_by_year.get(day.year)
        if dates is None:
            dates = frozenset(d for c in self.calendars for d in c.dates(day.year))
            self._holidays_by_year[day.year] = dates
        return day in dates

    def allows(self, local: datetime) -> bool:
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        for start, end in self.allowed.days[local.weekday()]:
            if start <= seconds < end:
                return not self.calendars or not self.is_holiday(local.date())
        return False

    def candidates_between(self, tz: ZoneInfo, start: datetime, limit: datetime) -> list[datetime]:
        """Sorted UTC instants in ``(start, limit]`` at which this layer may start allowing."""
        # Local years differ from UTC years by less than a day; two days of slack is safe.
        first = (start - timedelta(days=2)).year
        last = (limit + timedelta(days=2)).year
        found: list[datetime] = []
        for year in range(first, last + 1):
            instants = self._year_candidates(tz, year)
            if instants and instants[-1] > start:
                found += instants[bisect_right(instants, start) : bisect_right(instants, limit)]
        return found

    def _year_candidates(self, tz: ZoneInfo, year: int) -> list[datetime]:
        key = (tz.key, year)
        found = self._candidates.get(key)
        if found is None:
            found = []
            day = date(year, 1, 1)
            offset = datetime.combine(day, time(), tzinfo=tz).utcoffset()
            while day.year == year:
                following = day + timedelta(days=1)
                next_offset = datetime.combine(following, time(), tzinfo=tz).utcoffset()
                if offset == next_offset and offset is not None:
                    found += self._plain_day(day, offset)
                else:
                    found += self._transition_day(tz, day)
                day, offset = following, next_offset
            if len(self._candidates) >= _YEAR_CACHE_LIMIT:
                self._candidates.clear()
            self._candidates[key] = found
        return found

    def _plain_day(self, day: date, offset: timedelta) -> list[datetime]:
        """Window starts of a day without a UTC-offset change: plain arithmetic."""
        if self.is_holiday(day):
            return []
        midnight = datetime.combine(day, time(), tzinfo=UTC) - offset
        return [midnight + timedelta(seconds=s) for s, _e in self.allowed.days[day.weekday()]]

    def _transition_day(self, tz: ZoneInfo, day: date) -> list[datetime]:
        """Window starts under both readings of an ambiguous/missing wall time, plus the
        transition instant itself (where a repeat can re-open a window)."""
        instants = set(_transitions(tz, day))
        if not self.is_holiday(day):
            midnight = datetime.combine(day, time())
            for start, _end in self.allowed.days[day.weekday()]:
                wall = midnight + timedelta(seconds=start)
                for fold in (0, 1):
                    instants.add(wall.replace(tzinfo=tz, fold=fold).astimezone(UTC))
        return sorted(instants)


_transition_cache: dict[tuple[str, int], tuple[datetime, ...]] = {}


def _transitions(tz: ZoneInfo, day: date) -> tuple[datetime, ...]:
    """UTC instants during local ``day`` where the zone's UTC offset changes (DST)."""
    key = (tz.key, day.toordinal())
    found = _transition_cache.get(key)
    if found is not None:
        return found
    # From one second before local midnight: a change exactly at midnight (a zone that
    # springs forward at 00:00) belongs to this day, whose first wall times it skips.
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC) - timedelta(seconds=1)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    before, after = start.astimezone(tz).utcoffset(), end.astimezone(tz).utcoffset()
    result: tuple[datetime, ...] = ()
    if before != after:
        low, high = 0, int((end - start).total_seconds())
        while high - low > 1:  # first second with the new offset
            mid = (low + high) // 2
            if (start + timedelta(seconds=mid)).astimezone(tz).utcoffset() == before:
                low = mid
            else:
                high = mid
        result = (start + timedelta(seconds=high),)
    if len(_transition_cache) >= _DAY_CACHE_LIMIT:
        _transition_cache.clear()
    _transition_cache[key] = result
    return result


@dataclass(eq=False)
class RuleCheck:
    """One time rule, prepared for naming itself when it blocks (the slow path)."""

    rule: TimeRule
    calendar: HolidayCalendar | None
    clock: ZoneInfo | None
    texts: tuple[str, ...]  # per weekday: why a time outside the allowed intervals is blocked
    _holidays: dict[int, dict[date, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, rule: TimeRule, calendar: HolidayCalendar | None) -> RuleCheck:
        texts = []
        for weekday in range(7):
            if rule.kind == "closed_days" or not rule.allowed.days[weekday]:
                texts.append(f"no calls on {DAY_KEYS[weekday].title()}")
            elif rule.kind == "blackout":
                texts.append(f"inside the {rule.allowed.complement().describe_day(weekday)} break")
            else:
                clock = "local" if rule.clock is None else rule.clock
                texts.append(f"outside {rule.allowed.describe_day(weekday)} {clock} time")
        return cls(rule, calendar, ZoneInfo(rule.clock) if rule.clock else None, tuple(texts))

    def note(self, local: datetime, zone: str) -> str | None:
        """Why this rule blocks at wall time ``local`` in ``zone``, or None if it allows."""
        if self.calendar is not None:
            dates = self._holidays.get(local.year)
            if dates is None:
                dates = self._holidays[local.year] = self.calendar.dates(local.year)
            name = dates.get(local.date())
            if name is not None:
                return f"{local.date().isoformat()} is a holiday ({name}) in {zone}"
        weekday = local.weekday()
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        if self.rule.allowed.contains_seconds(weekday, seconds):
            return None
        stamp = f"{local.date().isoformat()} {local.hour:02d}:{local.minute:02d}:{local.second:02d}"
        return f"{self.texts[weekday]} ({zone} {DAY_KEYS[weekday].title()} {stamp})"


@dataclass(eq=False)
class Policy:
    """Everything needed to decide a call for one (place, purpose, schedule, waivers)."""

    region: str | None
    purpose: str
    pack_ids: tuple[str, ...]
    time_rules: tuple[RuleCheck, ...]
    caps: tuple[CapRule, ...]
    cooldowns: tuple[CooldownRule, ...]
    dnc: DncPolicy
    waived: tuple[str, ...]
    callee_layer: Layer
    fixed_layers: tuple[Layer, ...]
    preferences: tuple[PreferenceRule, ...] = ()
    consent_rules: tuple[ConsentRule, ...] = ()
    _gaps: dict[tuple[str, ...], tuple[datetime, datetime]] = field(default_factory=dict)

    def time_allowed(self, locals_: Sequence[datetime], at: datetime) -> bool:
        """Do all time rules allow a call at ``at`` (``locals_``: ``at`` in each callee zone)?"""
        layer = self.callee_layer
        for local in locals_:
            if not layer.allows(local):
                return False
        for fixed in self.fixed_layers:
            assert fixed.clock is not None
            if not fixed.allows(at.astimezone(fixed.clock)):
                return False
        return True

    def time_reasons(
        self, zones: Sequence[ZoneInfo], locals_: Sequence[datetime], at: datetime
    ) -> list[tuple[TimeRule, str]]:
        """Every time rule that blocks at ``at``, with a message naming the zones."""
        found = []
        for check in self.time_rules:
            if check.clock is not None:
                note = check.note(at.astimezone(check.clock), check.clock.key)
                notes = [note] if note else []
            else:
                notes = [
                    n
                    for tz, local in zip(zones, locals_, strict=True)
                    if (n := check.note(local, tz.key))
                ]
            if notes:
                found.append((check.rule, "; ".join(notes)))
        return found

    def next_time_allowed(
        self,
        zones: Sequence[ZoneInfo],
        start: datetime,
        limit: datetime,
        *,
        start_blocked: bool = False,
    ) -> datetime | None:
        """Earliest instant in ``[start, limit]`` all time rules allow, else None.

        ``start_blocked``: the caller already knows the time rules block at ``start``.
        """
        if not start_blocked and self.time_allowed([start.astimezone(tz) for tz in zones], start):
            return start
        key = tuple(tz.key for tz in zones)
        gap = self._gaps.get(key)
        if gap is not None and gap[0] <= start <= gap[1] <= limit:
            return gap[1]  # [gap start, gap end) is known to be blocked throughout
        sources = [(self.callee_layer, tz) for tz in zones]
        sources += [(layer, layer.clock) for layer in self.fixed_layers if layer.clock]
        found = [layer.candidates_between(tz, start, limit) for layer, tz in sources]
        if len(found) == 1 and len(zones) == 1:  # the common case: one zone, one layer
            layer, tz = sources[0]
            for candidate in found[0]:
                if layer.allows(candidate.astimezone(tz)):
                    self._gaps[key] = (start, candidate)
                    return candidate
            return None
        for candidate in sorted({c for f in found for c in f}):
            if self.time_allowed([candidate.astimezone(tz) for tz in zones], candidate):
                self._gaps[key] = (start, candidate)
                return candidate
        return None


def _layer(clock: str | None, rules: Sequence[tuple[TimeRule, HolidayCalendar | None]]) -> Layer:
    allowed = WeeklyWindows.always()
    calendars = []
    for rule, calendar in rules:
        allowed = allowed.intersect(rule.allowed)
        if calendar is not None:
            calendars.append(calendar)
    return Layer(ZoneInfo(clock) if clock else None, allowed, tuple(dict.fromkeys(calendars)))


def compile_policy(
    *,
    packs: Sequence[tuple[str, Sequence[Rule], DncPolicy | None]],
    region: str | None,
    purpose: str,
    schedule: WeeklyWindows | None,
    waived_rules: frozenset[str],
    consent: bool,
    preference: tuple[bool, WeeklyWindows | None] = (False, None),
) -> Policy:
    """Fold the applicable packs' rules (+ campaign schedule) for one purpose and region.

    ``preference``: (is a registered preference known for the number, its time bands).
    When known with bands, rules marked ``unless_preference`` (the default hours) give way to
    the ``preference`` rules, which apply the registered bands."""
    time_rules: list[tuple[TimeRule, HolidayCalendar | None]] = []
    caps: list[CapRule] = []
    cooldowns: list[CooldownRule] = []
    preferences: list[PreferenceRule] = []
    consent_rules: list[ConsentRule] = []
    waived: list[str] = []
    known, bands = preference
    rules: list[Rule] = [r for _pid, pack_rules, _dnc in packs for r in pack_rules]
    if schedule is not None:
        rules.append(_campaign_rule(schedule, purpose))
    for rule in rules:
        if purpose not in rule.purposes or (consent and rule.exempt_with_consent):
            continue
        if rule.id in waived_rules:
            waived.append(rule.id)
            continue
        if rule.unless_preference and known and bands is not None:
            continue  # registered bands replace the default hours (none known: they stay)
        if isinstance(rule, ConsentRule):
            consent_rules.append(rule)
        elif isinstance(rule, PreferenceRule):
            if known:
                preferences.append(rule)
                if bands is not None:
                    time_rules.append((_preference_rule(rule, bands), None))
        elif isinstance(rule, TimeRule):
            time_rules.append((rule, rule.calendar_for(region)))
        elif isinstance(rule, CapRule):
            caps.append(rule)
        elif isinstance(rule, CooldownRule):
            cooldowns.append(rule)
    by_clock: dict[str | None, list[tuple[TimeRule, HolidayCalendar | None]]] = {None: []}
    for item in time_rules:
        by_clock.setdefault(item[0].clock, []).append(item)
    fixed = tuple(_layer(clock, items) for clock, items in by_clock.items() if clock)
    pack_ids = tuple(pid for pid, _rules, _dnc in packs)
    return Policy(
        region=region,
        purpose=purpose,
        pack_ids=(*pack_ids, "campaign") if schedule is not None else pack_ids,
        time_rules=tuple(RuleCheck.build(r, c) for r, c in time_rules),
        caps=tuple(caps),
        cooldowns=tuple(cooldowns),
        dnc=combine_dnc([dnc for _pid, _rules, dnc in packs]),
        waived=tuple(waived),
        callee_layer=_layer(None, by_clock[None]),
        fixed_layers=fixed,
        preferences=tuple(preferences),
        consent_rules=tuple(consent_rules),
    )


def _preference_rule(rule: PreferenceRule, bands: WeeklyWindows) -> TimeRule:
    return TimeRule(
        id=rule.id,
        kind="window",
        title=rule.title,
        purposes=rule.purposes,
        source=rule.source,
        confidence=rule.confidence,
        allowed=bands,
    )


def _campaign_rule(schedule: WeeklyWindows, purpose: str) -> TimeRule:
    return TimeRule(
        id=CAMPAIGN_RULE_ID,
        kind="window",
        title="campaign calling hours",
        purposes=frozenset({purpose}),
        source="the campaign's own calling-hours schedule (campaigns.schedule)",
        confidence="default",
        allowed=schedule,
    )
