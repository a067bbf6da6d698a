"""``decide``: may this lead be called for this purpose at this instant, and if not, when?

Pure: the instant and the attempt history are parameters; nothing here reads a clock or a
database. The engine calls it right before every dial, stores ``Decision.to_dict()`` with the
attempt, and reschedules a blocked lead at ``next_allowed_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.compliance import geodata
from dialer.compliance.caps import history_blocks
from dialer.compliance.consent import consent_reasons, consented, level_at, relationship_holds
from dialer.compliance.model import CallPreference, ContactRecord, Decision, LeadInfo, Reason
from dialer.compliance.place import UNKNOWN_ZONE, nanp_subdivisions, resolve_place
from dialer.compliance.policy import Policy
from dialer.compliance.rulebook import MAX_LOOKBACK, NO_PREFERENCE, RuleBook, load_rulebook
from dialer.compliance.rules import PURPOSES
from dialer.compliance.windows import WeeklyWindows

SEARCH_HORIZON = timedelta(days=14)
"""``next_allowed_at`` is searched this far ahead; beyond it the answer is null."""

UNKNOWN_PLACE_RULE = "place.unknown-zone"

__all__ = ["MAX_LOOKBACK", "SEARCH_HORIZON", "decide"]

_PlaceInfo = tuple[tuple[str, ...], tuple[str, ...], tuple[ZoneInfo, ...]]
_place_cache: dict[tuple[str, str | None, tuple[str, ...], str | None], _PlaceInfo] = {}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _resolve_zones(lead: LeadInfo) -> tuple[tuple[str, ...], tuple[ZoneInfo, ...]]:
    """The lead's zones as ZoneInfo; unknown/invalid names → every zone of its country."""
    names = [geodata.canonical_zone(z) for z in lead.time_zones if z != UNKNOWN_ZONE]
    if not lead.time_zones:
        try:
            names = list(resolve_place(lead.phone_e164).time_zones)
        except ValueError:
            names = []
    good = {n: tz for n in names if (tz := _zone(n)) is not None}
    if len(good) < len(set(names)) or not good:
        for name in geodata.country_zones(lead.region) if lead.region else ():
            tz = _zone(name)
            if tz is not None:
                good[name] = tz
    ordered = tuple(sorted(good))
    return ordered, tuple(good[n] for n in ordered)


def _subdivisions(lead: LeadInfo) -> tuple[str, ...]:
    """Area-code subdivisions plus the lead's own; both when they disagree."""
    from_number = nanp_subdivisions(lead.phone_e164)
    own = lead.subdivision
    if own is None:
        return from_number
    if own in from_number:
        return (own,)
    return (*from_number, own)


def _place(lead: LeadInfo) -> _PlaceInfo:
    """(subdivisions, zone names, zones) of a lead, memoised by what determines them: the
    area code (``+1NPA``) and the stored zones, or the whole number when no zones are stored
    (they are then resolved from it)."""
    phone_key = lead.phone_e164[:5] if lead.time_zones else lead.phone_e164
    key = (phone_key, lead.subdivision, lead.time_zones, lead.region)
    found = _place_cache.get(key)
    if found is None:
        names, zones = _resolve_zones(lead)
        found = (_subdivisions(lead), names, zones)
        if len(_place_cache) >= 100_000:
            _place_cache.clear()
        _place_cache[key] = found
    return found


def _relationship(lead: LeadInfo, policy: Policy, source: str, at: datetime, consent: bool) -> bool:
    """A registry entry lifted for this seller: written permission or a live relationship."""
    settings = policy.dnc
    if source not in settings.relationship_sources:
        return False
    if policy.purpose not in settings.relationship_purposes:
        return False
    if consent and level_at(lead, at) == "express_written":
        return True
    purchase, inquiry = settings.ebr_purchase_months, settings.ebr_inquiry_months
    return relationship_holds(lead, at, purchase, inquiry)


def _dnc_reasons(
    lead: LeadInfo, policy: Policy, waived: frozenset[str], at: datetime, consent: bool
) -> list[Reason]:
    if not lead.dnc and not lead.dnc_sources:
        return []
    settings = policy.dnc
    reasons = []
    for source in lead.dnc_sources or ("",):
        rule_id = f"dnc.{source}" if source else "dnc"
        if rule_id in waived or source in settings.never_exempt_sources:
            if rule_id not in waived:
                reasons.append(_dnc_reason(rule_id, source, policy))
            continue
        exempt = bool(source) and (
            (consent and policy.purpose in settings.consent_exempt_purposes)
            or _relationship(lead, policy, source, at, consent)
        )
        if not exempt:
            reasons.append(_dnc_reason(rule_id, source, policy))
    return reasons


def _dnc_reason(rule_id: str, source: str, policy: Policy) -> Reason:
    where = f" ({source} list)" if source else ""
    settings = policy.dnc
    cited = settings.source or "do-not-call lists of the client and registries"
    if source in settings.relationship_sources:
        cited += " | " + settings.relationship_source
        message = (
            f"number is on a do-not-call list{where}; no written permission or business "
            f"relationship with the seller lifts it for {policy.purpose} calls"
        )
    else:
        message = (
            f"number is on a do-not-call list{where}; no pack exempts {policy.purpose} calls for it"
        )
    return Reason(rule_id, message, cited)


def _preference_reasons(
    policy: Policy, preference: CallPreference | None, category: str | None
) -> list[Reason]:
    """A registered preference that does not accept this call's category blocks it for good
    (until the registration changes): like a DNC entry, no later time helps."""
    if preference is None or not policy.preferences:
        return []
    if category is not None and category in preference.categories:
        return []
    if not preference.categories:
        text = "the number is registered as fully blocked"
    elif category is None:
        text = "the number has a registered preference and the call has no category"
    else:
        accepted = ", ".join(sorted(preference.categories))
        text = f"the number's registered categories ({accepted}) do not include {category!r}"
    return [Reason(rule.id, text, rule.source) for rule in policy.preferences]


def _blocked(
    lead: LeadInfo,
    policy: Policy,
    zones: tuple[ZoneInfo, ...],
    locals_: list[datetime],
    at: datetime,
    history: Sequence[ContactRecord],
    agent_guaranteed: bool,
    waived: frozenset[str],
    never: list[Reason],
    consent: bool,
) -> tuple[list[Reason], datetime | None]:
    """Reasons for a blocked call and the earliest instant all rules allow (or None).
    ``never``: reasons no later time lifts (a registered preference refusing the call)."""
    time_reasons = policy.time_reasons(zones, locals_, at)
    reasons = [Reason(rule.id, message, rule.source) for rule, message in time_reasons]
    blocks = history_blocks(
        policy.caps, policy.cooldowns, history, at, agent_guaranteed=agent_guaranteed
    )
    reasons += [Reason(b.rule.id, b.message, b.rule.source, b.release) for b in blocks]
    dnc = _dnc_reasons(lead, policy, waived, at, consent) + never
    reasons += dnc
    if dnc:
        return reasons, None
    start = max([at, *(b.release for b in blocks)])
    limit = at + SEARCH_HORIZON
    if start > limit:
        return reasons, None
    blocked_now = start == at and bool(time_reasons)
    return reasons, policy.next_time_allowed(zones, start, limit, start_blocked=blocked_now)


def decide(
    lead: LeadInfo,
    purpose: str,
    at_utc: datetime,
    history: Sequence[ContactRecord] = (),
    *,
    schedule: WeeklyWindows | None = None,
    waived_rules: frozenset[str] = frozenset(),
    rulebook: RuleBook | None = None,
    agent_guaranteed: bool = False,
    preference: CallPreference | None = None,
    category: str | None = None,
) -> Decision:
    """Decide whether ``lead`` may be called for ``purpose`` at ``at_utc`` (aware).

    ``history``: earlier attempts to the same number from the same client, at least
    ``MAX_LOOKBACK`` deep. ``schedule``: the campaign's own calling hours (can only make
    rules stricter). ``waived_rules``: rule ids an admin waived (audited by the caller).
    ``agent_guaranteed``: this call will have a live agent on the line when answered
    (lifts Ofcom's 72-hour pause after an abandoned call). ``preference``: the number's
    registered preference where a registry carries one (India's NCPR), applied by the packs'
    ``preference`` rules in place of their default hours; ``category``: this call's
    commercial category, checked against the preference's categories.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r} (use one of {', '.join(PURPOSES)})")
    if at_utc.tzinfo is None:
        raise ValueError("at_utc must be timezone-aware")
    at = at_utc if at_utc.tzinfo is UTC else at_utc.astimezone(UTC)
    if type(waived_rules) is not frozenset:
        waived_rules = frozenset(waived_rules)
    book = rulebook or load_rulebook()
    subdivisions, names, zones = _place(lead)
    bands = NO_PREFERENCE if preference is None else (True, preference.windows)
    consent = consented(lead, at)
    key = (lead.region, subdivisions, purpose, schedule, waived_rules, consent, bands)
    policy = book.cached_policy(key)
    if consent and policy.consent_rules and not consented(lead, at, policy.consent_rules):
        consent = False  # reassigned since the consent: the consent was someone else's
        policy = book.cached_policy((*key[:5], False, bands))
    never = [] if preference is None else _preference_reasons(policy, preference, category)
    if policy.consent_rules or lead.consent_level == "revoked" or lead.consent_revoked_at:
        never += consent_reasons(lead, at, policy.consent_rules)
    elif lead.litigator_sources:
        never += consent_reasons(lead, at, ())
    locals_ = [at.astimezone(tz) for tz in zones]
    local_times = {name: local.isoformat() for name, local in zip(names, locals_, strict=True)}
    allowed = bool(zones) and not never and policy.time_allowed(locals_, at)
    if allowed and (history or lead.dnc or lead.dnc_sources):
        allowed = not history_blocks(
            policy.caps, policy.cooldowns, history, at, agent_guaranteed=agent_guaranteed
        ) and not _dnc_reasons(lead, policy, waived_rules, at, consent)
    if allowed:
        reasons: list[Reason] = []
        next_at: datetime | None = at
    elif not zones:
        reasons = [Reason(UNKNOWN_PLACE_RULE, "no time zone known for this number", "")]
        next_at = None
    else:
        reasons, next_at = _blocked(
            lead, policy, zones, locals_, at, history, agent_guaranteed, waived_rules, never,
            consent,
        )  # fmt: skip
    return Decision(
        allowed=allowed,
        at_utc=at,
        purpose=purpose,
        reasons=tuple(reasons),
        local_times=local_times,
        time_zones=names,
        next_allowed_at=next_at,
        rules_applied=policy.pack_ids,
        region=lead.region,
        subdivisions=subdivisions,
        waived_rules=policy.waived,
    )
