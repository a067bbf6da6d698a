"""When a campaign should run: ``starts_at``, ``ends_at`` and the daily ``shift``.

Pure: given a campaign's fields and an instant, say which action (if any) the scheduler
should take. The scheduler calls this at every boundary and on a periodic tick, so a
restart or a missed boundary converges to the same state. A manager's deliberate pause
(reason ``manual``) is never undone by the schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialer.compliance.windows import DAY_SECONDS, WeeklyWindows

ACTIVE = frozenset({"running", "paused"})


def in_shift(shift: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether ``now`` is inside the shift's weekly windows (no shift: always)."""
    if not shift:
        return True
    local = now.astimezone(ZoneInfo(shift["timezone"]))
    return WeeklyWindows.from_json(shift["windows"]).contains(local)


@dataclass(frozen=True, slots=True)
class ShiftHours:
    """A shift read once: its time zone and weekly windows (``read_shift``)."""

    zone: ZoneInfo
    windows: WeeklyWindows


def read_shift(shift: Mapping[str, Any]) -> ShiftHours:
    """The shift's zone and windows (``KeyError``/``TypeError``/``ValueError`` if unreadable)."""
    return ShiftHours(ZoneInfo(shift["timezone"]), WeeklyWindows.from_json(shift["windows"]))


def seconds_left(
    ends_at: datetime | None, shift: Mapping[str, Any] | ShiftHours | None, now: datetime
) -> float | None:
    """Seconds until the campaign stops dialling: the nearer of ``ends_at`` and the close of
    the shift window ``now`` is in (the scheduler pauses it there). ``None``: no end known
    (no ``ends_at`` and no shift, or a shift that never closes)."""
    ends = []
    if ends_at is not None:
        ends.append(max(0.0, (ends_at - now).total_seconds()))
    if shift:
        close = shift_close_s(shift, now)
        if close is not None:
            ends.append(close)
    return min(ends) if ends else None


def shift_close_s(shift: Mapping[str, Any] | ShiftHours, now: datetime) -> float | None:
    """Seconds until the shift window containing ``now`` closes (``None`` outside the shift:
    a campaign a person runs outside its windows has no known end; ``None`` too if it runs
    for a whole week without closing). Windows running through midnight into the next
    day's ``00:00`` count as one."""
    hours = shift if isinstance(shift, ShiftHours) else read_shift(shift)
    local = now.astimezone(hours.zone)
    day = local.weekday()
    at = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    left = 0.0
    for _ in range(8):
        end = next((e for s, e in hours.windows.days[day] if s <= at < e), None)
        if end is None:
            return left or None
        left += end - at
        if end < DAY_SECONDS:
            return left
        day, at = (day + 1) % 7, 0.0
    return None


def desired_action(campaign: Mapping[str, Any], now: datetime) -> tuple[str, frozenset[str]] | None:
    """(action, states it applies from) the schedule asks for now, or None."""
    state = campaign["state"]
    starts_at, ends_at = campaign.get("starts_at"), campaign.get("ends_at")
    shift = campaign.get("shift")
    if ends_at is not None and now >= ends_at:
        return ("complete", ACTIVE) if state in ACTIVE else None
    if starts_at is not None and now < starts_at:
        return None
    inside = in_shift(shift, now)
    if state == "running" and not inside:
        return ("pause", frozenset({"running"}))
    if not inside:
        return None
    if state == "draft" and starts_at is not None:
        return ("start", frozenset({"draft"}))
    if state == "paused" and campaign.get("state_reason") == "schedule":
        return ("start", frozenset({"paused"}))
    return None
