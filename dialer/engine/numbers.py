"""Number hygiene: which of a lead's numbers its next attempt dials.

A lead has a current number (``phone_e164``, the one dialed) and alternates
(``alt_phones``). After a call that reached nobody:

* the network said the number does not exist (``Failed`` with a reason in
  ``RETIRING_REASONS``: unallocated, changed, invalid, SIT): the number is retired (kept in
  ``retired_phones``, never dialed again) and the lead moves to its next number, due at
  once, or, with none left (or the campaign's ``alt_phone_policy`` is ``off``), becomes
  ``invalid``;
* the campaign's policy is ``on_failure`` and the call was busy, unanswered or failed: the
  next attempt dials the next number; the current one goes to the back of the line.

``next_number`` is the pure decision; ``apply_numbers`` writes it in the closing
transaction, re-placing the lead (region, time zones) for the calling rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dialer.compliance.place import resolve_place
from dialer.gateway import RETIRING_REASONS
from dialer.sql import queries

_Q = queries("dialer.engine")
POLICIES = ("off", "on_bad_number", "on_failure")
NO_CONTACT = frozenset({"no_answer", "busy", "failed"})


@dataclass(frozen=True, slots=True)
class NumberChange:
    """The lead's numbers after a call; ``phone`` None: none left, the lead is invalid."""

    phone: str | None
    alt_phones: tuple[str, ...]
    retired: tuple[str, ...] = ()

    @property
    def due_now(self) -> bool:
        """A retired number's lead is dialed on its next number at once (it was not tried)."""
        return bool(self.retired) and self.phone is not None


def is_bad_number(outcome: str, reason: str | None) -> bool:
    return outcome == "failed" and (reason or "") in RETIRING_REASONS


def next_number(
    policy: str, outcome: str, reason: str | None, phone: str, alts: Sequence[str]
) -> NumberChange | None:
    """What becomes of the lead's numbers after a call with no conversation (None: nothing
    changes)."""
    alts = tuple(a for a in alts if a != phone)
    if is_bad_number(outcome, reason):
        if policy == "off" or not alts:
            return NumberChange(None, alts, (phone,))
        return NumberChange(alts[0], alts[1:], (phone,))
    if policy == "on_failure" and outcome in NO_CONTACT and alts:
        return NumberChange(alts[0], (*alts[1:], phone))
    return None


async def apply_numbers(
    conn: asyncpg.Connection,
    policy: str,
    calls: Sequence[tuple[int, str, str | None]],
    *,
    now: datetime,
) -> int:
    """For each ``(lead id, outcome, failure reason)`` of a closed call whose lead plan was
    applied, change the lead's numbers (inside the caller's transaction); how many changed."""
    changed = 0
    for lead_id, outcome, reason in calls:
        if outcome not in NO_CONTACT:
            continue
        lead = await conn.fetchrow(_Q["lead_numbers"], lead_id)
        if lead is None or lead["status"] in ("dnc", "completed", "invalid"):
            continue
        alts = [a for a in lead["alt_phones"] if a not in lead["retired_phones"]]
        taken = await _taken(conn, lead["campaign_id"], alts)
        alts = [a for a in alts if a not in taken]
        change = next_number(policy, outcome, reason, lead["phone_e164"], alts)
        if change is not None:
            await _write(conn, lead, change, now)
            changed += 1
    return changed


async def _taken(conn: asyncpg.Connection, campaign_id: int, phones: list[str]) -> set[str]:
    """Alternates that are another lead's number in the campaign (dialed as that lead)."""
    if not phones:
        return set()
    rows = await conn.fetch(_Q["numbers_in_use"], campaign_id, phones)
    return {r["phone_e164"] for r in rows}


async def _write(conn: asyncpg.Connection, lead: Any, change: NumberChange, now: datetime) -> None:
    if change.phone is None:
        await conn.execute(_Q["lead_invalid"], lead["id"], list(change.retired), now)
        return
    try:
        place = resolve_place(change.phone)
        region, subdivision, zones = place.region, place.subdivision, list(place.time_zones)
    except ValueError:
        region, subdivision, zones = lead["region"], lead["subdivision"], lead["time_zones"]
    await conn.execute(
        _Q["lead_next_number"],
        lead["id"],
        change.phone,
        list(change.alt_phones),
        list(change.retired),
        region,
        subdivision,
        zones,
        now if change.due_now else None,
        now,
    )
