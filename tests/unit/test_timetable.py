"""When the scheduler starts, pauses and completes a campaign (pure decisions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dialer.campaigns import states
from dialer.campaigns.timetable import desired_action, in_shift

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday
SHIFT = {"timezone": "Asia/Kolkata", "windows": {"mon": [["09:00", "18:00"]]}}  # 03:30-12:30Z


def camp(state: str, **kw: Any) -> dict[str, Any]:
    return {
        "state": state,
        "state_reason": kw.pop("reason", None),
        "starts_at": None,
        "ends_at": None,
        "shift": None,
        **kw,
    }


def at(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("campaign", "now", "expected"),
    [
        # starts_at: a draft starts when the time comes, not before.
        (camp("draft", starts_at=T0), at(9, 59), None),
        (camp("draft", starts_at=T0), T0, "start"),
        # A draft without starts_at waits for a person to start it.
        (camp("draft"), T0, None),
        # ends_at completes running and paused campaigns, leaves stopped ones alone.
        (camp("running", ends_at=T0), T0, "complete"),
        (camp("paused", ends_at=T0), at(11), "complete"),
        (camp("stopped", ends_at=T0), at(11), None),
        # Shift (IST 09:00-18:00 on Mondays = 03:30-12:30 UTC).
        (camp("running", shift=SHIFT), at(12, 29), None),
        (camp("running", shift=SHIFT), at(12, 30), "pause"),
        (camp("paused", reason="schedule", shift=SHIFT), at(3, 30), "start"),
        (camp("paused", reason="schedule", shift=SHIFT), at(3, 29), None),
        # A manager's deliberate pause is never undone by the schedule.
        (camp("paused", reason="manual", shift=SHIFT), at(5), None),
        # Tuesday: no shift at all.
        (camp("running", shift=SHIFT), at(5, day=8), "pause"),
        (camp("draft", starts_at=T0, shift=SHIFT), at(13), None),
        (camp("draft", starts_at=at(1), shift=SHIFT), at(4), "start"),
    ],
)
def test_desired_action(campaign: dict[str, Any], now: datetime, expected: str | None) -> None:
    wanted = desired_action(campaign, now)
    assert (wanted[0] if wanted else None) == expected
    if wanted:
        # Every requested action is a legal transition from the campaign's state.
        assert states.plan(wanted[0], campaign["state"]).target != campaign["state"]


def test_shift_follows_dst_in_the_centre_zone() -> None:
    shift = {"timezone": "America/New_York", "windows": {"sun": [["09:00", "17:00"]]}}
    # 2026-11-01 is the US fall-back Sunday: 09:00 EST = 14:00 UTC (EDT would be 13:00).
    assert not in_shift(shift, datetime(2026, 11, 1, 13, 30, tzinfo=UTC))
    assert in_shift(shift, datetime(2026, 11, 1, 14, 0, tzinfo=UTC))


def test_state_machine_table() -> None:
    assert states.plan("start", "draft").target == "running"
    assert not states.plan("pause", "paused").changes
    for action, state in [("pause", "draft"), ("complete", "draft"), ("pause", "stopped")]:
        with pytest.raises(states.TransitionError):
            states.plan(action, state)
