"""The value types of a compliance decision: who is called, what happened before, the answer.

``LeadInfo`` and ``ContactRecord`` are what the engine passes in (built from lead columns and
``attempts`` rows); ``Decision`` is what it stores in ``attempts.compliance`` (``to_dict``) and
uses to reschedule a blocked lead at ``next_allowed_at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers

from dialer.compliance.place import parse_number, resolve_place
from dialer.compliance.windows import DAY_KEYS, WeeklyWindows


@dataclass(frozen=True, slots=True)
class LeadInfo:
    """The callee as the rules see it: number, place, DNC status and consent.

    ``consent``: some prior consent is known (the older yes/no form). ``consent_level``:
    none | express | express_written | revoked, given at ``consent_at`` (None: date not
    known), revoked at ``consent_revoked_at`` (blocked from that instant). ``ebr_*_at``: the
    callee's last purchase from / inquiry to the client (the seller). ``wireless``: the number
    is known mobile (True), known not (False) or unknown (None). ``disconnected_at``: the
    Reassigned Numbers Database's last permanent disconnection of the number.
    ``litigator_sources``: litigator lists that hold the number (blocked whatever consent).
    """

    phone_e164: str
    region: str | None
    subdivision: str | None
    time_zones: tuple[str, ...]
    postal_code: str | None = None
    dnc: bool = False
    dnc_sources: tuple[str, ...] = ()
    consent: bool = False
    consent_level: str = "none"
    consent_at: datetime | None = None
    consent_revoked_at: datetime | None = None
    ebr_purchase_at: datetime | None = None
    ebr_inquiry_at: datetime | None = None
    wireless: bool | None = None
    disconnected_at: datetime | None = None
    litigator_sources: tuple[str, ...] = ()

    @classmethod
    def from_phone(
        cls,
        phone: str,
        *,
        default_region: str | None = None,
        state: str | None = None,
        postal_code: str | None = None,
        dnc: bool = False,
        dnc_sources: tuple[str, ...] = (),
        consent: bool = False,
    ) -> LeadInfo:
        """Build from a number (+ optional address) via ``resolve_place``; ``ValueError`` if
        the number cannot be parsed or the state/postal code is not usable."""
        number = parse_number(phone, default_region)
        place = resolve_place(number, state=state, postal_code=postal_code)
        return cls(
            phone_e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            region=place.region,
            subdivision=place.subdivision,
            time_zones=place.time_zones,
            postal_code=postal_code,
            dnc=dnc,
            dnc_sources=dnc_sources,
            consent=consent,
        )


@dataclass(frozen=True, slots=True)
class CallPreference:
    """A number's registered calling preference, where a registry carries one (India's NCPR
    under TCCCPR 2018: the commercial categories the subscriber accepts, and the time bands
    and days they accept them in). A ``preference`` rule applies it instead of the pack's
    default hours; no preference known means the default hours apply.

    ``categories``: accepted categories (empty: fully blocked). ``windows``: accepted local
    time bands per weekday (None: not known, e.g. a registry file of categories only; the
    pack's default hours then still apply).
    """

    categories: frozenset[str] = frozenset()
    windows: WeeklyWindows | None = None

    @classmethod
    def from_bands(
        cls,
        categories: tuple[str, ...] | frozenset[str],
        bands: tuple[tuple[str, str], ...] | list[tuple[str, str]],
        days: tuple[str, ...] | list[str] = DAY_KEYS,
    ) -> CallPreference:
        """From registry fields: ``bands`` as ``("10:00", "12:00")`` pairs on ``days``."""
        intervals = [list(b) for b in bands]
        windows = WeeklyWindows.from_json({d: intervals for d in days})
        return cls(frozenset(categories), windows)


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One earlier attempt to the same number from the same client.

    ``same_campaign``: the attempt was for this lead's campaign (same subject / same debt).
    ``conversation``: a live conversation with the callee took place.
    ``abandoned``: a person answered and no agent was connected in time.
    ``agent_guaranteed``: the attempt was placed with a live agent already on the line.
    """

    at_utc: datetime
    outcome: str
    same_campaign: bool
    purpose: str
    conversation: bool
    abandoned: bool
    agent_guaranteed: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that blocked the call: its id, what it saw, and where the rule comes from;
    ``until``: when a contact cap or cool-down stops blocking (it lapses)."""

    rule_id: str
    message: str
    source: str
    until: datetime | None = None

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message}"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "rule_id": self.rule_id,
            "message": self.message,
            "source": self.source,
            "until": iso_utc(self.until) if self.until else None,
        }


def iso_utc(moment: datetime) -> str:
    """``2026-03-08T14:00:00Z``."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Decision:
    """May this number be called for this purpose at ``at_utc``? And if not, when?"""

    allowed: bool
    at_utc: datetime
    purpose: str
    reasons: tuple[Reason, ...]
    local_times: Mapping[str, str] = field(compare=False, hash=False)
    time_zones: tuple[str, ...]
    next_allowed_at: datetime | None
    rules_applied: tuple[str, ...]
    region: str | None = None
    subdivisions: tuple[str, ...] = ()
    waived_rules: tuple[str, ...] = ()

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form stored in ``attempts.compliance`` and printed by the CLI."""
        return {
            "at": iso_utc(self.at_utc),
            "allowed": self.allowed,
            "purpose": self.purpose,
            "reasons": [str(r) for r in self.reasons],
            "rule_ids": list(self.rule_ids),
            "reason_details": [r.to_dict() for r in self.reasons],
            "next_allowed_at": iso_utc(self.next_allowed_at) if self.next_allowed_at else None,
            "time_zones": list(self.time_zones),
            "local_times": dict(self.local_times),
            "region": self.region,
            "subdivisions": list(self.subdivisions),
            "packs": list(self.rules_applied),
            "waived_rules": list(self.waived_rules),
        }
