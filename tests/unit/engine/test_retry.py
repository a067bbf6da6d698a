"""Retry policy per outcome, attempt caps, dispositions, callbacks at the lead's local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.campaigns.model import DEFAULT_RETRY_POLICY
from dialer.engine.retry import after_call, after_disposition, local_to_utc, retry_delay

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
POLICY = dict(DEFAULT_RETRY_POLICY)


def _after(outcome: str, *, attempts: int = 1, status: str = "retry", owner: int | None = None):
    return after_call(
        outcome,
        lead_status=status,
        callback_agent_id=owner,
        attempts_count=attempts,
        max_attempts=5,
        policy=POLICY,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("outcome", "delay"),
    [
        ("no_answer", timedelta(hours=2)),
        ("busy", timedelta(minutes=15)),
        ("machine", timedelta(days=1)),
        ("failed", timedelta(hours=1)),
        ("abandoned", timedelta(hours=72)),
        ("unknown", timedelta(hours=1)),
        ("human", timedelta(hours=2)),  # hung up while waiting: like no answer
    ],
)
def test_each_outcome_is_retried_after_its_delay(outcome: str, delay: timedelta) -> None:
    plan = _after(outcome)
    assert plan.status == "retry"
    assert plan.next_attempt_at == NOW + delay


def test_a_campaigns_own_policy_overrides_the_default() -> None:
    assert retry_delay("busy", {**POLICY, "busy": 600}) == timedelta(seconds=600)


def test_the_last_attempt_exhausts_the_lead() -> None:
    assert _after("no_answer", attempts=4).status == "retry"
    assert _after("no_answer", attempts=5).status == "exhausted"
    assert _after("no_answer", attempts=5).next_attempt_at is None


def test_an_unanswered_callback_stays_a_callback_for_its_owner() -> None:
    plan = _after("no_answer", status="callback", owner=7)
    assert (plan.status, plan.callback_agent_id) == ("callback", 7)
    assert plan.next_attempt_at == NOW + timedelta(hours=2)
    assert plan.events == ("lead.callback_scheduled",)


def test_an_agentless_message_delivered_completes_the_lead() -> None:
    plan = _after("completed")
    assert plan.status == "completed" and plan.events == ("lead.completed",)


def _disposition(name: str, **kw):
    args = {
        "dnc": False,
        "callback_at": None,
        "callback_agent_id": None,
        "attempts_count": 1,
        "max_attempts": 5,
        "policy": POLICY,
        "now": NOW,
    }
    args.update(kw)
    return after_disposition(name, **args)


def test_a_conversation_completes_the_lead() -> None:
    plan = _disposition("sale")
    assert plan.status == "completed" and plan.events == ("lead.completed",)


def test_a_dnc_request_wins_over_everything() -> None:
    plan = _disposition("callback", dnc=True, callback_at=NOW + timedelta(days=1))
    assert plan.status == "dnc" and plan.events == ("lead.dnc",)


def test_a_callback_is_scheduled_for_its_owner_or_anyone() -> None:
    at = NOW + timedelta(days=1)
    mine = _disposition("callback", callback_at=at, callback_agent_id=3)
    assert (mine.status, mine.next_attempt_at, mine.callback_agent_id) == ("callback", at, 3)
    anyone = _disposition("callback", callback_at=at)
    assert anyone.callback_agent_id is None


def test_an_amd_miss_caught_by_the_agent_is_retried_as_a_machine() -> None:
    plan = _disposition("machine")
    assert plan.status == "retry" and plan.next_attempt_at == NOW + timedelta(days=1)
    assert _disposition("machine", attempts_count=5).status == "exhausted"


def test_local_time_is_read_in_the_leads_zone() -> None:
    at = local_to_utc(datetime(2026, 12, 1, 10, 0), ("Asia/Kolkata",))
    assert at == datetime(2026, 12, 1, 4, 30, tzinfo=UTC)


def test_local_time_across_two_zones_is_never_early_in_either() -> None:
    # A number that may be in New York or Chicago: 10:00 in Chicago is the later instant.
    at = local_to_utc(datetime(2026, 12, 1, 10, 0), ("America/New_York", "America/Chicago"))
    assert at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def test_local_time_follows_daylight_saving() -> None:
    summer = local_to_utc(datetime(2026, 7, 1, 10, 0), ("Europe/London",))
    winter = local_to_utc(datetime(2026, 1, 5, 10, 0), ("Europe/London",))
    assert summer.hour == 9 and winter.hour == 10


def test_local_time_needs_a_zone_and_no_offset() -> None:
    with pytest.raises(ValueError):
        local_to_utc(datetime(2026, 12, 1, 10, 0), ())
    with pytest.raises(ValueError):
        local_to_utc(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), ("UTC",))
