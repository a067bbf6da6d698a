"""Where the callee must be offered an automated opt-out during the call.

A pack may list ``[[opt_out]]`` tables: each says that, for the ``purposes`` given, a
callee who hears one of the ``message_kinds`` must be offered an automated, interactive
(key-press) way to make a do-not-call request during that call. Message kinds:

``agentless``  the prerecorded message of an agentless campaign (no live agent);
``abandon``    the message played when no agent was free in time (the safe-harbor message);
``callback``   the recorded message a callee hears when calling back and no agent is free.

Each table carries ``id``, ``source`` and ``confidence`` like rules do. They are looked up
by jurisdiction (the country pack and the callee's subdivision packs). A campaign cannot turn
a required opt-out off: the engine offers it wherever ``opt_out_required`` says so, whatever
the campaign's ``opt_out`` setting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dialer.compliance.model import Reason
from dialer.compliance.rules import CONFIDENCE, PURPOSES, PackError, _Fields

MESSAGE_KINDS: tuple[str, ...] = ("agentless", "abandon", "callback")


@dataclass(frozen=True, slots=True)
class OptOutRule:
    """A jurisdiction's requirement of an in-call automated opt-out mechanism."""

    id: str
    message_kinds: frozenset[str]
    purposes: frozenset[str]
    title: str
    source: str
    confidence: str

    def applies(self, purpose: str, message_kind: str) -> bool:
        return purpose in self.purposes and message_kind in self.message_kinds

    def reason(self) -> Reason:
        return Reason(self.id, self.title, self.source)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_kinds": sorted(self.message_kinds),
            "purposes": sorted(self.purposes),
            "title": self.title,
            "source": self.source,
            "confidence": self.confidence,
        }


def parse_opt_out(raw: Any, where: str, pack_id: str) -> tuple[OptOutRule, ...]:
    """The ``[[opt_out]]`` tables of a pack; ``PackError`` names the field at fault."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PackError(f"{where}: expected an array of tables ([[opt_out]])")
    found = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise PackError(f"{where}[{i}]: expected a table")
        f = _Fields(item, f"{where}[{i}]")
        rule_id = f.get("id", str)
        if not rule_id.startswith(f"{pack_id}."):
            raise f.error("id", f"{rule_id!r} must start with the pack id {pack_id!r}.")
        kinds = f.str_list("message_kinds", MESSAGE_KINDS)
        if not kinds:
            raise f.error("message_kinds", f"list at least one of {', '.join(MESSAGE_KINDS)}")
        found.append(
            OptOutRule(
                id=rule_id,
                message_kinds=frozenset(kinds),
                purposes=frozenset(f.str_list("purposes", PURPOSES) or PURPOSES),
                title=f.get("title", str),
                source=f.get("source", str),
                confidence=f.choice("confidence", CONFIDENCE),
            )
        )
        f.finish()
    return tuple(found)


def fold_opt_out(
    rules: Iterable[OptOutRule], purpose: str, message_kind: str
) -> tuple[bool, tuple[Reason, ...]]:
    """(required, the rules that require it) for one purpose and message kind."""
    if message_kind not in MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {message_kind!r}")
    reasons = tuple(r.reason() for r in rules if r.applies(purpose, message_kind))
    return bool(reasons), reasons
