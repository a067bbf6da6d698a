"""Shared helpers for the compliance tests: local-time instants and an independent reference."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from dialer.compliance import LeadInfo, RuleBook, WeeklyWindows, load_rulebook
from dialer.compliance.decide import _subdivisions
from dialer.compliance.rules import TimeRule


def local(zone: str, text: str) -> datetime:
    """The UTC instant of wall time ``text`` (ISO, naive) in ``zone`` (fold=0)."""
    naive = datetime.fromisoformat(text)
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def reference_allowed(
    lead: LeadInfo,
    purpose: str,
    at: datetime,
    *,
    schedule: WeeklyWindows | None = None,
    book: RuleBook | None = None,
) -> bool:
    """Time rules only, evaluated naively rule by rule and zone by zone on the real instant.

    Independent of the engine's folding of rules into layers and of its candidate search:
    it looks each rule up in the packs and converts ``at`` to each zone with zoneinfo.
    """
    book = book or load_rulebook()
    rules: list[TimeRule] = [
        rule
        for pack in book.packs_for(lead.region, _subdivisions(lead), purpose)
        for rule in pack.rules
        if isinstance(rule, TimeRule) and purpose in rule.purposes
    ]
    if schedule is not None:
        for zone in lead.time_zones:
            if not schedule.contains(at.astimezone(ZoneInfo(zone))):
                return False
    for rule in rules:
        clocks = [rule.clock] if rule.clock else list(lead.time_zones)
        calendar = rule.calendar_for(lead.region)
        for zone in clocks:
            wall = at.astimezone(ZoneInfo(zone))
            if not rule.allowed.contains(wall):
                return False
            if calendar is not None and calendar.contains(date(wall.year, wall.month, wall.day)):
                return False
    return True
