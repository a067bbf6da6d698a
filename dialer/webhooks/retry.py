"""What to do after a delivery attempt: done, try again later, or give up (dead letter).

Pure: the outcome of the attempt, the attempt count, the start of the retry window, the
current time and a ``random.Random`` for jitter go in; a ``Decision`` comes out.

- 2xx: delivered.
- 408, 429 and 5xx, timeouts and connection errors: retried with exponential backoff and
  jitter, or after the receiver's ``Retry-After`` (seconds or an HTTP date) when it sent one.
- Any other status (other 4xx, and 3xx: redirects are not followed, the signed request
  goes only to the URL the subscription names): final failure, no retry.
- A retry that would fall after ``max_age_s`` (24 h) from the start of the window, or
  beyond ``max_attempts``, is not made: the delivery becomes a dead letter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

RETRYABLE_4XX = frozenset({408, 429})

Action = Literal["delivered", "retry", "failed", "dead"]


@dataclass(frozen=True)
class Outcome:
    """What one attempt produced: an HTTP status, or an error before any status."""

    status: int | None = None
    error: str | None = None  # timeout / connection error (no status)
    retry_after: str | None = None  # the raw Retry-After header

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``base_s * factor**(attempt-1)``, capped at ``max_delay_s``, ± ``jitter``."""

    base_s: float = 10.0
    factor: float = 2.0
    max_delay_s: float = 2 * 3600.0
    jitter: float = 0.2  # fraction of the delay, drawn uniformly in [-jitter, +jitter]
    max_age_s: float = 24 * 3600.0
    max_attempts: int = 100
    min_retry_after_s: float = 1.0


@dataclass(frozen=True)
class Decision:
    action: Action
    next_attempt_at: datetime | None = None
    reason: str = ""


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    raw = policy.base_s * policy.factor ** max(attempt - 1, 0)
    capped = min(raw, policy.max_delay_s)
    spread = capped * policy.jitter
    return min(max(capped + rng.uniform(-spread, spread), 0.0), policy.max_delay_s)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def retryable(outcome: Outcome) -> bool:
    if outcome.status is None:
        return True  # timeout, connection refused/reset, DNS: the receiver may come back
    return outcome.status in RETRYABLE_4XX or outcome.status >= 500


def describe(outcome: Outcome) -> str:
    if outcome.status is not None:
        return f"HTTP {outcome.status}"
    return outcome.error or "no response"


def decide(
    outcome: Outcome,
    *,
    attempts: int,
    started_at: datetime,
    now: datetime,
    rng: random.Random,
    policy: RetryPolicy | None = None,
) -> Decision:
    """The next step after attempt number ``attempts`` of a delivery whose window began at
    ``started_at``."""
    policy = policy or RetryPolicy()
    if outcome.ok:
        return Decision("delivered")
    what = describe(outcome)
    if not retryable(outcome):
        if outcome.status is not None and 300 <= outcome.status < 400:
            what += " (redirects are not followed: update the subscription's url)"
        return Decision("failed", reason=what)
    if attempts >= policy.max_attempts:
        return Decision("dead", reason=f"{what}; gave up after {attempts} attempts")
    asked = parse_retry_after(outcome.retry_after, now)
    if asked is not None:
        delay = max(asked, policy.min_retry_after_s)
    else:
        delay = backoff(attempts, policy, rng)
    at = now + timedelta(seconds=delay)
    if at > started_at + timedelta(seconds=policy.max_age_s):
        hours = policy.max_age_s / 3600
        return Decision("dead", reason=f"{what}; gave up after {attempts} attempts in {hours:g} h")
    return Decision("retry", next_attempt_at=at, reason=what)
