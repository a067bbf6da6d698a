"""Which DNC entries apply to a number for a campaign.

An entry applies when it is global (no client, no campaign: e.g. a national registry),
belongs to the campaign's client, or to the campaign itself, and has not expired. A national
registry loaded from its full file (``dnc/registry.py``) applies everywhere, in the
generation in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

import asyncpg

from dialer.dnc.kinds import categories_of

_SOURCES = """
SELECT phone_e164, array_agg(DISTINCT source ORDER BY source) AS sources
FROM (
    SELECT phone_e164, source FROM dnc_entries
    WHERE phone_e164 = ANY($1::text[])
      AND (client_id IS NULL OR client_id = $2)
      AND (campaign_id IS NULL OR campaign_id = $3)
      AND (expires_at IS NULL OR expires_at > $4)
    UNION ALL
    SELECT '+' || r.number::text, g.source
    FROM dnc_registry_numbers r JOIN dnc_registries g ON g.generation = r.generation
    WHERE r.number = ANY($5::bigint[]) AND g.kind = 'dnc'
) found
GROUP BY phone_e164
"""


async def dnc_sources(
    conn: asyncpg.Connection | asyncpg.Pool,
    phones: Sequence[str],
    *,
    client_id: int,
    campaign_id: int | None,
    now: datetime,
) -> dict[str, list[str]]:
    """phone → sources of the DNC entries that block it (numbers not blocked are absent)."""
    if not phones:
        return {}
    rows = await conn.fetch(_SOURCES, list(phones), client_id, campaign_id, now, _digits(phones))
    return {r["phone_e164"]: list(r["sources"]) for r in rows}


@dataclass(frozen=True, slots=True)
class RegistryFacts:
    """What registries other than DNC lists say about a number (``dnc/kinds.py``)."""

    wireless: bool | None = None
    disconnected_at: datetime | None = None
    categories: frozenset[str] | None = None  # an NCPR preference; empty: fully blocked
    litigator_sources: tuple[str, ...] = ()


_SCREEN = """
SELECT phone_e164, 'dnc' AS kind, source, NULL::date AS since, NULL::smallint AS categories
FROM dnc_entries
WHERE phone_e164 = ANY($1::text[])
  AND (client_id IS NULL OR client_id = $2)
  AND (campaign_id IS NULL OR campaign_id = $3)
  AND (expires_at IS NULL OR expires_at > $4)
UNION ALL
SELECT '+' || r.number::text, g.kind, g.source, r.since, r.categories
FROM dnc_registry_numbers r JOIN dnc_registries g ON g.generation = r.generation
WHERE r.number = ANY($5::bigint[])
"""


async def screen_numbers(
    conn: asyncpg.Connection | asyncpg.Pool,
    phones: Sequence[str],
    *,
    client_id: int,
    campaign_id: int | None,
    now: datetime,
) -> tuple[dict[str, list[str]], dict[str, RegistryFacts]]:
    """phone → sources of the DNC entries that block it (as ``dnc_sources``), and phone →
    what other registries say of it (``RegistryFacts``): one read for the dialing path's gate."""
    if not phones:
        return {}, {}
    rows = await conn.fetch(_SCREEN, list(phones), client_id, campaign_id, now, _digits(phones))
    sources: dict[str, set[str]] = {}
    for r in rows:
        if r["kind"] == "dnc":
            sources.setdefault(r["phone_e164"], set()).add(r["source"])
    dnc = {phone: sorted(found) for phone, found in sources.items()}
    return dnc, _facts([r for r in rows if r["kind"] != "dnc"])


def _digits(phones: Sequence[str]) -> list[int]:
    """The numbers as the registries store them (E.164 digits as bigint)."""
    return [int(p[1:]) for p in phones if p[1:].isdigit() and len(p) <= 19]


def _facts(rows: Sequence[asyncpg.Record]) -> dict[str, RegistryFacts]:
    found: dict[str, dict[str, object]] = {}
    for r in rows:
        facts = found.setdefault(r["phone_e164"], {})
        kind = r["kind"]
        if kind == "wireless":
            facts["wireless"] = True
        elif kind == "reassigned" and r["since"] is not None:
            facts["disconnected_at"] = datetime.combine(r["since"], time(), tzinfo=UTC)
        elif kind == "preference" and r["categories"] is not None:
            facts["categories"] = categories_of(r["categories"])
        elif kind == "litigator":
            facts["litigator_sources"] = (*facts.get("litigator_sources", ()), r["source"])  # type: ignore[misc]
    return {phone: RegistryFacts(**facts) for phone, facts in found.items()}  # type: ignore[arg-type]
