"""What happens to a lead after a call: retry, callback, completion, DNC or exhaustion.

Pure: the outcome (and the agent's disposition, when there is one), the campaign's retry
policy and attempt cap, and the instant give the lead's next status and next attempt time.
The engine applies the plan in the same transaction as the attempt record.

* No conversation (no_answer, busy, machine, failed, abandoned, unknown, a human who hung
  up while waiting): retry after the policy's delay for that outcome, or ``exhausted``
  once ``max_attempts`` dials were made. A lead waiting for a callback stays a callback.
* A conversation: the disposition's action (the campaign's dispositions,
  ``campaigns.codes``) decides. ``dnc`` → ``dnc``; a ``callback_at`` → ``callback`` at that
  instant (agent-owned or anyone); action ``callback`` without one → ``callback`` after
  its ``retry_after_s``; action ``retry`` → retried after its ``retry_after_s`` (default:
  the policy's delay for the code, e.g. an AMD miss the agent caught) until its attempt
  cap; ``complete`` → ``completed``. Without an action, a disposition named like a
  retryable outcome (``no_answer``, ``busy``, ``machine``, ``failed``) is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dialer.campaigns.model import DEFAULT_RETRY_POLICY

DIALABLE = ("new", "retry", "callback")
RETRY_DISPOSITIONS = frozenset({"no_answer", "busy", "machine", "failed"})
# Outcomes without a policy entry of their own borrow one.
_POLICY_KEY = {"human": "no_answer", "completed": "no_answer"}
NO_DECISION_RECHECK = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class LeadPlan:
    """The lead's next status; ``next_attempt_at`` None keeps the current value."""

    status: str
    next_attempt_at: datetime | None = None
    callback_agent_id: int | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """Webhook events this change emits (besides the attempt's own)."""
        return {
            "completed": ("lead.completed",),
            "dnc": ("lead.dnc",),
            "callback": ("lead.callback_scheduled",),
        }.get(self.status, ())


def retry_delay(outcome: str, policy: dict[str, int]) -> timedelta:
    """Seconds to wait after ``outcome`` under ``policy`` (defaults fill the gaps)."""
    key = _POLICY_KEY.get(outcome, outcome)
    seconds = policy.get(key, DEFAULT_RETRY_POLICY.get(key, DEFAULT_RETRY_POLICY["unknown"]))
    return timedelta(seconds=seconds)


def after_call(
    outcome: str,
    *,
    lead_status: str,
    callback_agent_id: int | None,
    attempts_count: int,
    max_attempts: int,
    policy: dict[str, int],
    now: datetime,
) -> LeadPlan:
    """The plan for a call that ended without an agent's disposition."""
    if outcome == "completed":  # agentless: the message was delivered
        return LeadPlan("completed")
    if attempts_count >= max_attempts:
        return LeadPlan("exhausted")
    at = now + retry_delay(outcome, policy)
    if lead_status == "callback":
        return LeadPlan("callback", at, callback_agent_id)
    return LeadPlan("retry", at)


def after_disposition(
    disposition: str,
    *,
    dnc: bool,
    callback_at: datetime | None,
    callback_agent_id: int | None,
    attempts_count: int,
    max_attempts: int,
    policy: dict[str, int],
    now: datetime,
    action: str | None = None,
    retry_after_s: int | None = None,
) -> LeadPlan:
    """The plan for a conversation, from the agent's disposition and its action."""
    if dnc or action == "dnc":
        return LeadPlan("dnc")
    if callback_at is not None:
        return LeadPlan("callback", callback_at, callback_agent_id)
    if action == "callback":
        wait = timedelta(seconds=retry_after_s or 86_400)
        return LeadPlan("callback", now + wait, callback_agent_id)
    if action == "retry" and retry_after_s is not None:
        if attempts_count >= max_attempts:
            return LeadPlan("exhausted")
        return LeadPlan("retry", now + timedelta(seconds=retry_after_s))
    if action == "retry" or (action is None and disposition in RETRY_DISPOSITIONS):
        return after_call(
            disposition,
            lead_status="retry",
            callback_agent_id=None,
            attempts_count=attempts_count,
            max_attempts=max_attempts,
            policy=policy,
            now=now,
        )
    return LeadPlan("completed")


def local_to_utc(local: datetime, zones: tuple[str, ...]) -> datetime:
    """A wall-clock time in the lead's place as a UTC instant.

    A number may span several zones (a US area code across a zone line); the latest of the
    candidate instants is chosen, so the call is never placed before that local time in any
    of them. ``ValueError`` when the lead has no known zone.
    """
    if local.tzinfo is not None:
        raise ValueError("local time must not carry an offset")
    if not zones:
        raise ValueError("the lead has no known time zone")
    instants = [local.replace(tzinfo=ZoneInfo(z)) for z in zones]
    return max(instants).astimezone(UTC)
