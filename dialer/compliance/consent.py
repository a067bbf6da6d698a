"""Why a person may be called: consent, its revocation, the business relationship, the
number's registry facts (wireless, reassigned, litigator).

Pure: everything comes in on ``LeadInfo`` and the instant of the decision. Two kinds of pack
rule live here:

* ``consent``     calls to ``numbers`` (``wireless``: numbers known mobile; ``all``) need at
                  least the consent ``needs`` (``express`` or ``express_written``)
* ``reassigned``  consent given on or before the number's last permanent disconnection
                  (the FCC's Reassigned Numbers Database) was given by someone else: the
                  call is blocked

and two that hold everywhere, whatever the pack: a revoked consent (``consent.revoked``,
from the instant it was recorded) and a litigator list (``litigator.<list>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dialer.compliance.model import LeadInfo, Reason, iso_utc
from dialer.compliance.rules import DncPolicy, Rule

CONSENT_LEVELS: tuple[str, ...] = ("none", "express", "express_written", "revoked")
GIVEN = ("express", "express_written")
_RANK = {"none": 0, "express": 1, "express_written": 2}
NUMBERS = ("wireless", "all")
CONSENT_KINDS = ("consent", "reassigned")
REVOKED_RULE = "consent.revoked"
REVOKED_SOURCE = (
    "The callee's revocation of consent, recorded on the lead: honoured from the instant it "
    "is recorded, for every purpose and place. US: 47 CFR 64.1200(a)(10) (FCC 24-24, Report "
    "and Order of Feb 2024, in force 11 Apr 2025): consent may be revoked by any reasonable "
    "means and must be honoured within 10 business days at most; the rule's 'all unrelated "
    "calls' scope was delayed by the FCC's Apr 2025 waiver. [S: commlawgroup.com, "
    "jdsupra.com, insidearm.com]"
)
LITIGATOR_SOURCE = (
    "Litigator list loaded as a registry of kind 'litigator': not a statute, a risk list "
    "the client chose; blocked whatever consent or relationship."
)


@dataclass(frozen=True, kw_only=True)
class ConsentRule(Rule):
    """Calls to ``numbers`` need at least ``needs`` (``consent``); or consent older than the
    number's last disconnection does not count (``reassigned``)."""

    needs: str = "express"
    numbers: str = "all"

    def describe(self) -> str:
        if self.kind == "reassigned":
            return "consent given before the number was last disconnected (RND) does not count"
        which = "wireless numbers" if self.numbers == "wireless" else "every number"
        return f"calls to {which} need {self.needs.replace('_', ' ')} consent"


def parse_consent_rule(f: Any, common: dict[str, Any]) -> ConsentRule:
    """The fields of a ``consent`` / ``reassigned`` rule (``f``: the rule's ``_Fields``)."""
    if common["kind"] == "reassigned":
        return ConsentRule(**common)
    return ConsentRule(
        **common, needs=f.choice("needs", GIVEN), numbers=f.choice("numbers", NUMBERS, "all")
    )


def level_at(lead: LeadInfo, at: datetime) -> str:
    """The consent in force at ``at``: revoked from the instant recorded (until a consent
    dated after the revocation); a consent dated after ``at`` not yet given; the older
    yes/no ``consent`` counts as express."""
    level, revoked_at, given_at = lead.consent_level, lead.consent_revoked_at, lead.consent_at
    if level == "revoked":
        return "revoked"
    if revoked_at is not None and revoked_at <= at:
        renewed = given_at is not None and revoked_at < given_at <= at
        if not renewed:  # only a consent given after the revocation counts again
            return "revoked"
    if level == "none" and lead.consent:
        level = "express"
    if level in GIVEN and given_at is not None and given_at > at:
        return "none"
    return level


def reassigned_since_consent(lead: LeadInfo, at: datetime) -> bool:
    """The number was permanently disconnected on or after the consent date (the RND answers
    "yes" for a query date on or before the disconnection date); no date: assumed so."""
    found = lead.disconnected_at
    if found is None or found > at or level_at(lead, at) not in GIVEN:
        return False
    return lead.consent_at is None or found >= lead.consent_at


def consented(lead: LeadInfo, at: datetime, rules: Sequence[ConsentRule] = ()) -> bool:
    """Does a consent (of any level) hold at ``at``? (``exempt_with_consent`` rules and the
    DNC exemptions.) Reassigned numbers lose it where a ``reassigned`` rule applies."""
    if level_at(lead, at) not in GIVEN:
        return False
    return not (any(r.kind == "reassigned" for r in rules) and reassigned_since_consent(lead, at))


def consent_reasons(lead: LeadInfo, at: datetime, rules: Sequence[ConsentRule]) -> list[Reason]:
    """Every consent rule that blocks the call (none of them lapses with time)."""
    level = level_at(lead, at)
    reasons = [
        Reason(f"litigator.{name}", f"the number is on the {name} litigator list", LITIGATOR_SOURCE)
        for name in lead.litigator_sources
    ]
    if level == "revoked":
        when = f" at {iso_utc(lead.consent_revoked_at)}" if lead.consent_revoked_at else ""
        reasons.append(Reason(REVOKED_RULE, f"the callee revoked consent{when}", REVOKED_SOURCE))
        return reasons
    for rule in rules:
        if rule.kind == "reassigned" and reassigned_since_consent(lead, at):
            assert lead.disconnected_at is not None
            given = iso_utc(lead.consent_at) if lead.consent_at else "an unknown date"
            reasons.append(
                Reason(
                    rule.id,
                    f"the number was disconnected on {lead.disconnected_at.date().isoformat()},"
                    f" after the consent of {given}: it may belong to someone else now",
                    rule.source,
                )
            )
            level = "none"
    for rule in rules:
        if rule.kind != "consent" or (rule.numbers == "wireless" and lead.wireless is not True):
            continue
        if _RANK.get(level, 0) < _RANK[rule.needs]:
            which = "a wireless number" if rule.numbers == "wireless" else "this number"
            needs = rule.needs.replace("_", " ")
            has = level.replace("_", " ")
            text = f"calls to {which} need {needs} consent; the lead has {has}"
            reasons.append(Reason(rule.id, text, rule.source))
    return reasons


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months (the 31st → the month's last day)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def relationship_holds(
    lead: LeadInfo, at: datetime, purchase_months: int, inquiry_months: int
) -> bool:
    """An established business relationship with the client at ``at``: a purchase within
    ``purchase_months`` or an inquiry within ``inquiry_months`` before the call (47 CFR
    64.1200(f)(5): 18 and 3 months). A revoked consent (a stop request) ends it."""
    if level_at(lead, at) == "revoked":
        return False
    purchase, inquiry = lead.ebr_purchase_at, lead.ebr_inquiry_at
    if purchase is not None and purchase <= at < add_months(purchase, purchase_months):
        return True
    return inquiry is not None and inquiry <= at < add_months(inquiry, inquiry_months)


def combine_dnc(dnc_policies: Sequence[DncPolicy | None]) -> DncPolicy:
    """An exemption holds only if every applicable pack grants it (a pack without a
    ``[dnc]`` table grants none); never-exempt sources add up. A relationship exemption
    names its registry: it comes from the pack that has it."""
    exempt: frozenset[str] | None = None
    never: set[str] = {"internal"}
    sources = []
    with_ebr = [d for d in dnc_policies if d is not None and d.relationship_sources]
    for dnc in dnc_policies:
        purposes = dnc.consent_exempt_purposes if dnc is not None else frozenset()
        exempt = purposes if exempt is None else exempt & purposes
        if dnc is not None:
            never.update(dnc.never_exempt_sources)
            sources.append(dnc.source)
    combined = DncPolicy(exempt or frozenset(), frozenset(never), " | ".join(filter(None, sources)))
    return replace(combined, **_relationship(with_ebr)) if with_ebr else combined


def _relationship(found: Sequence[DncPolicy]) -> dict[str, Any]:
    first = found[0]
    return {
        "relationship_sources": frozenset().union(*(d.relationship_sources for d in found)),
        "relationship_purposes": first.relationship_purposes,
        "ebr_purchase_months": min(d.ebr_purchase_months for d in found),
        "ebr_inquiry_months": min(d.ebr_inquiry_months for d in found),
        "relationship_source": first.relationship_source,
    }
