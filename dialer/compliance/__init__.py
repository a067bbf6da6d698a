"""Calling rules: a pure decision engine (no I/O, injected time) plus rule packs as data.

``decide(lead, purpose, at_utc, history)`` answers whether a number may be called now under
the rules of the callee's place and, if not, when it may. Rule packs live in ``packs/*.toml``
(one per jurisdiction, each rule with its source); place tables in ``data/``.
"""

from dialer.compliance.check import check_number
from dialer.compliance.decide import MAX_LOOKBACK, SEARCH_HORIZON, decide
from dialer.compliance.model import CallPreference, ContactRecord, Decision, LeadInfo, Reason
from dialer.compliance.place import Place, resolve_place
from dialer.compliance.rulebook import Pack, RuleBook, load_rulebook, parse_pack
from dialer.compliance.rules import OUTCOMES, PURPOSES, PackError
from dialer.compliance.windows import WeeklyWindows


def opt_out_required(
    place: Place, purpose: str, message_kind: str, *, book: RuleBook | None = None
) -> tuple[bool, tuple[Reason, ...]]:
    """Whether a callee in ``place`` who hears a ``message_kind`` message (``agentless``,
    ``abandon``, ``callback``) of a ``purpose`` campaign must be offered an automated in-call
    opt-out, and the rules (id, text, source) that require it (``compliance.optout``)."""
    return (book or load_rulebook()).opt_out(place, purpose, message_kind)


__all__ = [
    "MAX_LOOKBACK",
    "OUTCOMES",
    "PURPOSES",
    "SEARCH_HORIZON",
    "CallPreference",
    "ContactRecord",
    "Decision",
    "LeadInfo",
    "Pack",
    "PackError",
    "Place",
    "Reason",
    "RuleBook",
    "WeeklyWindows",
    "check_number",
    "decide",
    "load_rulebook",
    "opt_out_required",
    "parse_pack",
    "resolve_place",
]
