"""Which caller ID a call presents: the campaign's pool, local presence, a daily cap, rotation.

Pure. A campaign may have a pool of caller IDs. For each call the dialer picks one:

1. only numbers in the pool, not retired and under the pool's ``daily_cap`` (calls placed
   with it since 00:00 UTC) are candidates;
2. with ``local_presence``, the closest candidates to the callee win: the same area code
   (NANP), else the same state/province, else the same country, else any;
3. among those, rotation: the one used least today (then the pool's order);
4. no pool, or every number capped or retired: the campaign's own ``caller_id``.

``pick`` returns the number and the reason a person can read ("local presence: same area
code 305"), so the API can say why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import phonenumbers

from dialer.compliance.place import resolve_place


@dataclass(frozen=True, slots=True)
class Where:
    """A number's place as local presence compares it."""

    area: str | None  # NANP area code
    subdivision: str | None  # ISO 3166-2 suffix (state/province)
    region: str | None  # ISO 3166-1 alpha-2


@dataclass(frozen=True, slots=True)
class PoolNumber:
    number: str
    where: Where
    retired: bool = False


@dataclass(frozen=True, slots=True)
class Pick:
    caller_id: str | None
    reason: str


def where_of(number: str) -> Where:
    """The place of an E.164 number (unknown parts are None)."""
    area = number[2:5] if number.startswith("+1") and len(number) == 12 else None
    try:
        place = resolve_place(number)
    except (ValueError, phonenumbers.NumberParseException):
        return Where(area, None, None)
    return Where(area, place.subdivision, place.region)


TIERS = (
    ("area", "same area code"),
    ("subdivision", "same state"),
    ("region", "same country"),
)


def pick(
    pool: Sequence[PoolNumber],
    callee: Where,
    *,
    default: str | None,
    local_presence: bool,
    daily_cap: int | None,
    used_today: Mapping[str, int],
) -> Pick:
    """The caller ID for a call to ``callee`` now (see the module docstring)."""
    live = [p for p in pool if not p.retired]
    if not live:
        return Pick(default, "campaign caller_id (no caller-ID pool)")
    open_ = [p for p in live if daily_cap is None or used_today.get(p.number, 0) < daily_cap]
    if not open_:
        return Pick(default, f"campaign caller_id: every pool number reached {daily_cap} today")
    tier, why = open_, "rotation"
    if local_presence:
        why = "local presence: no number near the callee, rotation"
        for attr, label in TIERS:
            wanted = getattr(callee, attr)
            near = [p for p in open_ if wanted and getattr(p.where, attr) == wanted]
            if near:
                tier, why = near, f"local presence: {label} {wanted}"
                break
    order = {p.number: i for i, p in enumerate(pool)}
    chosen = min(tier, key=lambda p: (used_today.get(p.number, 0), order[p.number]))
    used = used_today.get(chosen.number, 0)
    cap = f" of {daily_cap}" if daily_cap is not None else ""
    return Pick(chosen.number, f"{why}; least used today ({used}{cap} calls)")
