"""Contact caps and cool-downs evaluated against a lead's attempt history.

Both kinds are monotone in time for a fixed history: once the oldest counted attempt leaves
the window (cap) or the cool-down after the last counted call ends, the rule stops blocking
and never blocks again until a new attempt is made. So each blocking rule yields one
*release instant*, and the next allowed call can be no earlier than the latest release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialer.compliance.rules import CapRule, CooldownRule, format_duration


class AttemptLike(Protocol):
    """What caps need from a history record (``ContactRecord`` satisfies it)."""

    @property
    def at_utc(self) -> datetime: ...
    @property
    def outcome(self) -> str: ...
    @property
    def same_campaign(self) -> bool: ...
    @property
    def purpose(self) -> str: ...
    @property
    def conversation(self) -> bool: ...
    @property
    def abandoned(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class HistoryBlock:
    """A cap or cool-down that blocks now, and when it stops blocking."""

    rule: CapRule | CooldownRule
    message: str
    release: datetime


def _in_scope(record: AttemptLike, scope: str, purposes: frozenset[str]) -> bool:
    return record.purpose in purposes and (scope == "all" or record.same_campaign)


def _cap_block(rule: CapRule, history: Sequence[AttemptLike], at: datetime) -> HistoryBlock | None:
    since = at - rule.per
    times = sorted(
        r.at_utc
        for r in history
        if r.at_utc > since
        and _in_scope(r, rule.scope, rule.count_purposes)
        and (rule.count_outcomes is None or r.outcome in rule.count_outcomes)
    )
    if len(times) < rule.max_calls:
        return None
    release = times[len(times) - rule.max_calls] + rule.per
    message = (
        f"{len(times)} calls in the last {format_duration(rule.per)} "
        f"(limit {rule.max_calls}); next call from {release.isoformat()}"
    )
    return HistoryBlock(rule, message, release)


def _cooldown_block(
    rule: CooldownRule, history: Sequence[AttemptLike], at: datetime, agent_guaranteed: bool
) -> HistoryBlock | None:
    if rule.lifted_by_agent_guarantee and agent_guaranteed:
        return None
    since = at - rule.duration
    after_conversation = rule.after == "conversation"
    relevant = [
        r.at_utc
        for r in history
        if r.at_utc > since
        and (r.conversation if after_conversation else (r.abandoned or r.outcome == "abandoned"))
        and _in_scope(r, rule.scope, rule.count_purposes)
    ]
    if not relevant:
        return None
    last = max(relevant)
    release = last + rule.duration
    what = "a conversation" if after_conversation else "an abandoned call"
    message = (
        f"{what} at {last.isoformat()}; no call within {format_duration(rule.duration)} "
        f"(until {release.isoformat()})"
    )
    return HistoryBlock(rule, message, release)


def history_blocks(
    caps: Sequence[CapRule],
    cooldowns: Sequence[CooldownRule],
    history: Sequence[AttemptLike],
    at: datetime,
    *,
    agent_guaranteed: bool = False,
) -> list[HistoryBlock]:
    """Every cap / cool-down that blocks a call at ``at``."""
    blocks: list[HistoryBlock] = []
    if not history:
        return blocks
    for cap in caps:
        block = _cap_block(cap, history, at)
        if block:
            blocks.append(block)
    for cooldown in cooldowns:
        block = _cooldown_block(cooldown, history, at, agent_guaranteed)
        if block:
            blocks.append(block)
    return blocks
