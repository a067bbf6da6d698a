"""Rule packs: loading and validating ``packs/*.toml``, and choosing which packs apply.

A pack is one jurisdiction's rules (a country, or a country's subdivision, or ``*`` for the
global default) for the purposes it lists. For a call, the packs that apply are layered by
intersection: the country pack (or the global default when no country pack covers the
purpose) ∩ every applicable subdivision pack ∩ the campaign's own schedule. Layering can only
make calling stricter; the only way to relax a rule is an admin's audited waiver of its id.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

from dialer.compliance.conduct import (
    Conduct,
    RecordingConsent,
    VoicemailDropBan,
    describe_conduct,
    fold_conduct,
    parse_recording_consent,
    parse_voicemail_drop,
)
from dialer.compliance.model import Reason
from dialer.compliance.optout import OptOutRule, fold_opt_out, parse_opt_out
from dialer.compliance.place import Place
from dialer.compliance.policy import Policy, compile_policy
from dialer.compliance.rules import (
    PURPOSES,
    CapRule,
    CooldownRule,
    DncPolicy,
    PackError,
    Rule,
    TimeRule,
    _Fields,
    format_duration,
    parse_rule,
)
from dialer.compliance.windows import WeeklyWindows

MAX_LOOKBACK = timedelta(days=31)
"""How far back the engine must query attempt history: the longest cap/cooldown any pack may use."""

DEFAULT_COUNTRY = "*"
PolicyKey = tuple[
    str | None,
    tuple[str, ...],
    str,
    WeeklyWindows | None,
    frozenset[str],
    bool,
    tuple[bool, WeeklyWindows | None],
]  # region, subdivisions, purpose, campaign schedule, waived rule ids, consent,
# (registered preference known, its bands)
NO_PREFERENCE: tuple[bool, WeeklyWindows | None] = (False, None)
_POLICY_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class Pack:
    """One jurisdiction's rules, as loaded from ``packs/<id>.toml``."""

    id: str
    name: str
    country: str
    also_countries: tuple[str, ...]
    subdivision: str | None
    purposes: frozenset[str]
    rules: tuple[Rule, ...]
    dnc: DncPolicy | None
    notes: str
    filename: str
    recording_consent: RecordingConsent | None = None
    voicemail_drop: VoicemailDropBan | None = None
    opt_out: tuple[OptOutRule, ...] = ()

    @property
    def jurisdiction(self) -> str:
        return self.country + (f"-{self.subdivision}" if self.subdivision else "")

    def covers(self, region: str | None) -> bool:
        return region is not None and (region == self.country or region in self.also_countries)

    def describe(self) -> dict[str, Any]:
        """JSON-able summary for ``dialer rules list|show``."""
        return {
            "id": self.id,
            "name": self.name,
            "jurisdiction": self.jurisdiction,
            "also_countries": list(self.also_countries),
            "purposes": sorted(self.purposes),
            "notes": self.notes,
            "dnc": None
            if self.dnc is None
            else {
                "consent_exempt_purposes": sorted(self.dnc.consent_exempt_purposes),
                "never_exempt_sources": sorted(self.dnc.never_exempt_sources),
                "source": self.dnc.source,
                "relationship_sources": sorted(self.dnc.relationship_sources),
                "relationship_purposes": sorted(self.dnc.relationship_purposes),
                "ebr_purchase_months": self.dnc.ebr_purchase_months,
                "ebr_inquiry_months": self.dnc.ebr_inquiry_months,
                "relationship_source": self.dnc.relationship_source,
            },
            "rules": [_describe_rule(r) for r in self.rules],
            **describe_conduct(self.recording_consent, self.voicemail_drop),
            "opt_out": [r.describe() for r in self.opt_out],
        }


def _describe_rule(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule.id,
        "kind": rule.kind,
        "title": rule.title,
        "purposes": sorted(rule.purposes),
        "summary": rule.describe(),
        "confidence": rule.confidence,
        "exempt_with_consent": rule.exempt_with_consent,
        "unless_preference": rule.unless_preference,
        "source": rule.source,
    }
    if isinstance(rule, TimeRule) and rule.kind in ("window", "blackout", "closed_days"):
        out["allowed"] = rule.allowed.to_json()
        out["clock"] = rule.clock or "callee"
    return out


def _dnc(raw: Any, where: str, purposes: frozenset[str]) -> DncPolicy | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise PackError(f"{where}: expected a table")
    f = _Fields(raw, where)
    exempt = f.str_list("consent_exempt_purposes", PURPOSES) or ()
    never = f.str_list("never_exempt_sources")
    months = [f.get(k, int, 0) for k in ("ebr_purchase_months", "ebr_inquiry_months")]
    if any(m < 0 or m > 120 for m in months):
        raise PackError(f"{where}: ebr_*_months must be 0-120")
    policy = DncPolicy(
        consent_exempt_purposes=frozenset(exempt) & purposes,
        never_exempt_sources=frozenset(never if never is not None else ("internal",)),
        source=f.get("source", str),
        relationship_sources=frozenset(f.str_list("relationship_sources") or ()),
        relationship_purposes=frozenset(f.str_list("relationship_purposes", PURPOSES) or ()),
        ebr_purchase_months=months[0],
        ebr_inquiry_months=months[1],
        relationship_source=f.get("relationship_source", str, ""),
    )
    f.finish()
    return policy


def parse_pack(filename: str, text: str) -> Pack:
    """Parse and validate one pack file; ``PackError`` names the file and the field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{filename}: not valid TOML: {exc}") from None
    f = _Fields(raw, filename)
    pack_id = f.get("id", str)
    stem = filename.rsplit("/", 1)[-1].removesuffix(".toml")
    if pack_id != stem:
        raise f.error("id", f"{pack_id!r} must match the file name {stem!r}")
    country = f.get("country", str)
    if country != DEFAULT_COUNTRY and not (len(country) == 2 and country.isupper()):
        raise f.error("country", f"{country!r} is not an ISO 3166-1 alpha-2 code or '*'")
    purposes = f.str_list("purposes", PURPOSES)
    if not purposes:
        raise f.error("purposes", f"list at least one of {', '.join(PURPOSES)}")
    pack_purposes = frozenset(purposes)
    raw_rules = f.get("rules", list, [])
    recording = parse_recording_consent(
        f.get("recording_consent", dict, None), f"{filename}: recording_consent"
    )
    voicemail = parse_voicemail_drop(
        f.get("voicemail_drop", dict, None), f"{filename}: voicemail_drop"
    )
    opt_out = parse_opt_out(f.get("opt_out", list, None), f"{filename}: opt_out", pack_id)
    if not raw_rules and recording is None and voicemail is None and not opt_out:
        raise f.error("rules", "a pack needs at least one rule (or a conduct table)")
    rules = tuple(
        parse_rule(
            r if isinstance(r, dict) else {},
            pack_id=pack_id,
            pack_purposes=pack_purposes,
            where=f"{filename}: rules[{i}]",
        )
        for i, r in enumerate(raw_rules)
    )
    pack = Pack(
        id=pack_id,
        name=f.get("name", str),
        country=country,
        also_countries=tuple(f.str_list("also_countries") or ()),
        subdivision=f.get("subdivision", str, None),
        purposes=pack_purposes,
        rules=rules,
        dnc=_dnc(f.get("dnc", dict, None), f"{filename}: dnc", pack_purposes),
        notes=f.get("notes", str, "").strip(),
        filename=filename,
        recording_consent=recording,
        voicemail_drop=voicemail,
        opt_out=opt_out,
    )
    f.finish()
    return pack


class RuleBook:
    """The loaded rule packs, with validated cross-pack invariants and a policy cache."""

    def __init__(self, packs: Sequence[Pack]) -> None:
        self.packs: tuple[Pack, ...] = tuple(sorted(packs, key=lambda p: p.id))
        self._check(self.packs)
        self._by_id = {p.id: p for p in self.packs}
        self._policies: dict[PolicyKey, Policy] = {}

    @staticmethod
    def _check(packs: Sequence[Pack]) -> None:
        seen_rules: dict[str, str] = {}
        jurisdictions: dict[tuple[str, str | None], str] = {}
        for pack in packs:
            for rule in pack.rules:
                if rule.id in seen_rules:
                    raise PackError(
                        f"{pack.filename}: rule id {rule.id!r} also in {seen_rules[rule.id]}"
                    )
                seen_rules[rule.id] = pack.filename
                _check_lookback(pack, rule)
            key = (pack.country, pack.subdivision)
            if key in jurisdictions:
                other = jurisdictions[key]
                raise PackError(
                    f"{pack.filename}: jurisdiction {pack.jurisdiction} also in {other}"
                )
            jurisdictions[key] = pack.filename
        if (DEFAULT_COUNTRY, None) not in jurisdictions:
            raise PackError("no global default pack (country = '*'): every lead needs a rule")

    @classmethod
    def from_texts(cls, texts: Mapping[str, str]) -> RuleBook:
        """Build from ``{filename: toml_text}`` (used by tests and by ``from_package``)."""
        return cls([parse_pack(name, text) for name, text in sorted(texts.items())])

    @classmethod
    def from_package(cls) -> RuleBook:
        """The packs shipped in ``dialer/compliance/packs/*.toml``."""
        folder = resources.files("dialer.compliance") / "packs"
        texts = {
            entry.name: entry.read_text(encoding="utf-8")
            for entry in folder.iterdir()
            if entry.name.endswith(".toml")
        }
        return cls.from_texts(texts)

    def pack(self, key: str) -> Pack | None:
        """A pack by id (``us-fl``) or jurisdiction (``US-FL``, ``US``, ``*``)."""
        found = self._by_id.get(key.lower())
        if found is not None:
            return found
        for pack in self.packs:
            if pack.jurisdiction.upper() == key.upper():
                return pack
        return None

    def jurisdictions(self) -> list[str]:
        """``["*", "AU", ..., "US-WA"]``: what is loaded, for ``dialer rules list``."""
        return sorted(p.jurisdiction for p in self.packs)

    def describe(self) -> list[dict[str, Any]]:
        """Every pack with its rules and sources, JSON-ready."""
        return [p.describe() for p in self.packs]

    @property
    def max_lookback(self) -> timedelta:
        longest = timedelta(0)
        for pack in self.packs:
            for rule in pack.rules:
                if isinstance(rule, CapRule):
                    longest = max(longest, rule.per)
                elif isinstance(rule, CooldownRule):
                    longest = max(longest, rule.duration)
        return longest

    def packs_for(
        self, region: str | None, subdivisions: Iterable[str], purpose: str
    ) -> tuple[Pack, ...]:
        """Country pack (or the global default) + subdivision packs that apply to the purpose."""
        subs = set(subdivisions)
        country = [
            p
            for p in self.packs
            if p.subdivision is None and p.covers(region) and purpose in p.purposes
        ]
        if not country:
            country = [
                p for p in self.packs if p.country == DEFAULT_COUNTRY and purpose in p.purposes
            ]
        local = [
            p
            for p in self.packs
            if p.subdivision in subs and p.covers(region) and purpose in p.purposes
        ]
        return tuple(country + local)

    def conduct(self, region: str | None, subdivisions: Iterable[str], purpose: str) -> Conduct:
        """Recording consent and voicemail-drop rules for a place (``compliance.conduct``),
        from its country pack and subdivision packs whatever purposes their rules cover."""
        subs = set(subdivisions)
        packs = [
            p
            for p in self.packs
            if p.covers(region) and (p.subdivision is None or p.subdivision in subs)
        ]
        packs.sort(key=lambda p: p.subdivision is not None)
        return fold_conduct(((p.id, p.recording_consent, p.voicemail_drop) for p in packs), purpose)

    def opt_out(
        self, place: Place, purpose: str, message_kind: str
    ) -> tuple[bool, tuple[Reason, ...]]:
        """Whether a callee in ``place`` hearing a ``message_kind`` message of a ``purpose``
        campaign must be offered an in-call opt-out, and the rules that say so."""
        subs = set(place.subdivisions)
        rules = [
            r
            for p in self.packs
            if p.covers(place.region) and (p.subdivision is None or p.subdivision in subs)
            for r in p.opt_out
        ]
        return fold_opt_out(rules, purpose, message_kind)

    def opt_out_anywhere(self, purpose: str) -> tuple[OptOutRule, ...]:
        """Every pack's opt-out rule for ``purpose`` (what a campaign page shows)."""
        return tuple(r for p in self.packs for r in p.opt_out if purpose in r.purposes)

    def policy(
        self,
        region: str | None,
        subdivisions: tuple[str, ...],
        purpose: str,
        *,
        schedule: WeeklyWindows | None = None,
        waived_rules: frozenset[str] = frozenset(),
        consent: bool = False,
        preference: tuple[bool, WeeklyWindows | None] = NO_PREFERENCE,
    ) -> Policy:
        """The compiled policy for one (place, purpose, campaign schedule, waivers, consent,
        registered preference)."""
        key = (region, subdivisions, purpose, schedule, waived_rules, consent, preference)
        return self.cached_policy(key)

    def cached_policy(self, key: PolicyKey) -> Policy:
        """``policy`` by its key tuple (the hot path of ``decide``), compiled on first use."""
        policy = self._policies.get(key)
        if policy is None:
            region, subdivisions, purpose, schedule, waived_rules, consent, preference = key
            if len(self._policies) >= _POLICY_CACHE_LIMIT:
                self._policies.clear()
            packs = self.packs_for(region, subdivisions, purpose)
            policy = compile_policy(
                packs=[(p.id, p.rules, p.dnc) for p in packs],
                region=region,
                purpose=purpose,
                schedule=schedule,
                waived_rules=waived_rules,
                consent=consent,
                preference=preference,
            )
            self._policies[key] = policy
        return policy


def _check_lookback(pack: Pack, rule: Rule) -> None:
    span = rule.per if isinstance(rule, CapRule) else getattr(rule, "duration", None)
    if span is not None and span > MAX_LOOKBACK:
        raise PackError(
            f"{pack.filename}: rule {rule.id} looks back {format_duration(span)}, more than "
            f"MAX_LOOKBACK ({format_duration(MAX_LOOKBACK)}) of history the engine provides"
        )


@cache
def load_rulebook() -> RuleBook:
    """The process-wide rule book built from the shipped packs (loaded once)."""
    return RuleBook.from_package()
