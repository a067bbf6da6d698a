"""The retry schedule: which answers are retried, when, and when a delivery gives up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dialer.webhooks.retry import Outcome, RetryPolicy, backoff, decide, parse_retry_after

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
NO_JITTER = RetryPolicy(jitter=0.0)


def _decide(outcome: Outcome, attempts: int = 1, age_s: float = 0.0, **kw: object):
    return decide(
        outcome,
        attempts=attempts,
        started_at=NOW - timedelta(seconds=age_s),
        now=NOW,
        rng=random.Random(1),
        policy=kw.pop("policy", NO_JITTER),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("outcome", "action"),
    [
        (Outcome(status=200), "delivered"),
        (Outcome(status=204), "delivered"),
        (Outcome(status=500), "retry"),
        (Outcome(status=502), "retry"),
        (Outcome(status=503), "retry"),
        (Outcome(status=408), "retry"),
        (Outcome(status=429), "retry"),
        (Outcome(error="timeout"), "retry"),
        (Outcome(error="connection failed: Connection refused"), "retry"),
        (Outcome(status=400), "failed"),
        (Outcome(status=401), "failed"),
        (Outcome(status=404), "failed"),
        (Outcome(status=410), "failed"),
        (Outcome(status=422), "failed"),
        (Outcome(status=301), "failed"),  # redirects are not followed
    ],
)
def test_what_is_retried(outcome: Outcome, action: str) -> None:
    assert _decide(outcome).action == action


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (8, 1280), (10, 5120), (11, 7200), (30, 7200)],
)
def test_backoff_doubles_from_ten_seconds_up_to_two_hours(attempt: int, seconds: float) -> None:
    assert backoff(attempt, NO_JITTER, random.Random(0)) == seconds
    decision = _decide(Outcome(status=500), attempts=attempt)
    assert decision.next_attempt_at == NOW + timedelta(seconds=seconds)


def test_jitter_stays_within_its_band_and_comes_from_the_injected_rng() -> None:
    policy = RetryPolicy(jitter=0.2)
    delays = [backoff(3, policy, random.Random(seed)) for seed in range(200)]
    assert all(32 <= d <= 48 for d in delays)
    assert len(set(delays)) > 100  # spread, so retries of many events do not stampede
    assert backoff(3, policy, random.Random(7)) == backoff(3, policy, random.Random(7))


def test_a_day_of_failures_ends_in_a_dead_letter() -> None:
    """Replaying the schedule against a receiver that never answers."""
    policy = RetryPolicy()
    rng = random.Random(42)
    started = NOW
    now = NOW
    attempts = 0
    while True:
        attempts += 1
        d = decide(
            Outcome(error="timeout"), attempts=attempts, started_at=started, now=now, rng=rng
        )
        if d.action != "retry":
            break
        assert d.next_attempt_at is not None and d.next_attempt_at > now
        now = d.next_attempt_at
    assert d.action == "dead"
    assert "gave up" in d.reason
    assert timedelta(hours=21) < now - started <= timedelta(hours=24)
    assert 15 <= attempts <= 25, policy


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120),
        ("0", 1),  # at least a second
        ("Mon, 05 Jan 2026 15:05:00 GMT", 300),
        ("Mon, 05 Jan 2026 14:00:00 GMT", 1),  # a date in the past: as soon as allowed
    ],
)
def test_retry_after_is_honoured(header: str, seconds: float) -> None:
    d = _decide(Outcome(status=429, retry_after=header), attempts=7)
    assert d.action == "retry"
    assert d.next_attempt_at == NOW + timedelta(seconds=seconds)


def test_unparseable_retry_after_falls_back_to_backoff() -> None:
    d = _decide(Outcome(status=503, retry_after="soon"), attempts=2)
    assert d.next_attempt_at == NOW + timedelta(seconds=20)


def test_retry_after_beyond_the_window_is_a_dead_letter() -> None:
    d = _decide(Outcome(status=503, retry_after="7200"), age_s=23 * 3600)
    assert d.action == "dead"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("abc", None), ("-5", None), ("30", 30.0)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_max_attempts_caps_retries() -> None:
    d = _decide(Outcome(status=429, retry_after="1"), attempts=100)
    assert d.action == "dead"
