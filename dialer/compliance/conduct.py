"""Rules about what happens on a call, not when it may be placed: recording consent and
voicemail drop.

A pack may carry two tables beside its rules:

``[recording_consent]`` — the jurisdiction requires the consent of every party to record a
call (``all_party = true``), so a recorded call must first play the campaign's recording
announcement. It applies to every purpose unless ``purposes`` narrows it.

``[voicemail_drop]`` — leaving a pre-recorded message on an answering machine is forbidden
for the ``forbidden_purposes`` listed; the engine hangs up on the machine instead.

Both carry ``source`` and ``confidence`` like rules do. They are looked up by jurisdiction
only (the country pack and the callee's subdivision packs), whatever purposes the pack's
time rules cover: a state's recording law does not depend on why the call is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dialer.compliance.model import Reason
from dialer.compliance.rules import CONFIDENCE, PURPOSES, PackError, _Fields


@dataclass(frozen=True, slots=True)
class RecordingConsent:
    """A jurisdiction that needs every party's consent to record a call."""

    all_party: bool
    purposes: frozenset[str]
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class VoicemailDropBan:
    """A jurisdiction where messages may not be left on answering machines (for purposes)."""

    forbidden_purposes: frozenset[str]
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class Conduct:
    """What the rules of the callee's place say about one call's conduct.

    ``recording_consent``: the rule that makes a recorded call announce itself (None: no
    all-party consent law known for the place). ``voicemail_barred``: the rule that forbids
    a voicemail drop for the campaign's purpose (None: allowed)."""

    recording_consent: Reason | None = None
    voicemail_barred: Reason | None = None


NO_CONDUCT = Conduct()


def parse_recording_consent(raw: Any, where: str) -> RecordingConsent | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise PackError(f"{where}: expected a table")
    f = _Fields(raw, where)
    found = RecordingConsent(
        all_party=f.get("all_party", bool),
        purposes=frozenset(f.str_list("purposes", PURPOSES) or PURPOSES),
        source=f.get("source", str),
        confidence=f.choice("confidence", CONFIDENCE),
    )
    f.finish()
    return found


def parse_voicemail_drop(raw: Any, where: str) -> VoicemailDropBan | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise PackError(f"{where}: expected a table")
    f = _Fields(raw, where)
    purposes = f.str_list("forbidden_purposes", PURPOSES)
    if not purposes:
        raise f.error("forbidden_purposes", f"list at least one of {', '.join(PURPOSES)}")
    found = VoicemailDropBan(
        forbidden_purposes=frozenset(purposes),
        source=f.get("source", str),
        confidence=f.choice("confidence", CONFIDENCE),
    )
    f.finish()
    return found


def fold_conduct(
    packs: Iterable[tuple[str, RecordingConsent | None, VoicemailDropBan | None]], purpose: str
) -> Conduct:
    """The conduct rules of the packs covering a place (country first, then subdivisions):
    the first pack that requires all-party consent, the first that bars the drop."""
    consent: Reason | None = None
    barred: Reason | None = None
    for pack_id, rec, vm in packs:
        if consent is None and rec is not None and rec.all_party and purpose in rec.purposes:
            consent = Reason(
                f"{pack_id}.recording-consent",
                "every party must consent to a recording: the call announces it",
                rec.source,
            )
        if barred is None and vm is not None and purpose in vm.forbidden_purposes:
            barred = Reason(
                f"{pack_id}.voicemail-drop",
                f"no pre-recorded message may be left on a machine for {purpose} calls",
                vm.source,
            )
    return Conduct(consent, barred)


def describe_conduct(rec: RecordingConsent | None, vm: VoicemailDropBan | None) -> dict[str, Any]:
    """JSON-able form for ``dialer rules show`` and ``GET /api/v1/rules``."""
    return {
        "recording_consent": None
        if rec is None
        else {
            "all_party": rec.all_party,
            "purposes": sorted(rec.purposes),
            "source": rec.source,
            "confidence": rec.confidence,
        },
        "voicemail_drop": None
        if vm is None
        else {
            "forbidden_purposes": sorted(vm.forbidden_purposes),
            "source": vm.source,
            "confidence": vm.confidence,
        },
    }
