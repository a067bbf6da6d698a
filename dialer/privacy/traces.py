"""What identifies a person in stored text, and how to take it out of a JSON document.

A number is looked for as E.164 (``+12125550142``), as its digits (``12125550142``) and as
its national significant number (``2125550142``, what a spreadsheet usually holds); a lead's
custom-field values of four characters or more are looked for as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import phonenumbers

ERASED = "[erased]"
# Shorter field values ("yes", "12") would match unrelated text.
MIN_VALUE_CHARS = 4
# Event keys that say nothing about the person: kept when an event of theirs is rewritten.
NEUTRAL_KEYS = frozenset(
    {
        "lead_id",
        "campaign_id",
        "attempt_id",
        "agent_id",
        "list_id",
        "import_id",
        "outcome",
        "answer",
        "mode",
        "status",
        "lead_status",
        "disposition",
        "source",
        "rule_ids",
        "started_at",
        "answered_at",
        "connected_at",
        "ended_at",
        "decided_at",
        "ring_s",
        "wait_s",
        "talk_s",
        "attempts_count",
        "attempt",
        "callback_at",
        "at",
        "next_attempt_at",
        "dnc",
    }
)


def national_digits(e164: str) -> str | None:
    """The national significant number of an E.164 number (None when it does not parse)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.national_significant_number(parsed) or None


def number_forms(e164: str) -> list[str]:
    """The texts a stored number may appear as."""
    forms = [e164, e164.lstrip("+")]
    national = national_digits(e164)
    if national and len(national) >= 6:
        forms.append(national)
    return list(dict.fromkeys(forms))


def field_values(fields: Any) -> Iterator[str]:
    """Every text (or number) in a lead's custom fields, nested ones included."""
    if isinstance(fields, dict):
        for value in fields.values():
            yield from field_values(value)
    elif isinstance(fields, list):
        for value in fields:
            yield from field_values(value)
    elif isinstance(fields, str | int | float) and not isinstance(fields, bool):
        text = str(fields).strip()
        if len(text) >= MIN_VALUE_CHARS:
            yield text


def needles(phones: Iterable[str], fields: Iterable[Any]) -> list[str]:
    """Every text to look for: the number forms, then the field values."""
    found: list[str] = []
    for phone in phones:
        if phone:
            found.extend(number_forms(phone))
    for value in fields:
        found.extend(field_values(value))
    return list(dict.fromkeys(found))


def like_patterns(texts: Iterable[str]) -> list[str]:
    """``LIKE`` patterns matching any text that contains one of ``texts``."""
    out = []
    for text in texts:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        out.append(f"%{escaped}%")
    return out


def scrub(document: Any, texts: list[str]) -> Any:
    """``document`` with every string that contains one of ``texts`` (any case) replaced by
    ``[erased]``; the structure, numbers and other strings stay."""
    lowered = [t.lower() for t in texts]
    return _scrub(document, lowered)


def _scrub(value: Any, lowered: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, lowered) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, lowered) for v in value]
    if isinstance(value, str):
        low = value.lower()
        return ERASED if any(t in low for t in lowered) else value
    return value


def neutral_event(payload: Any) -> dict[str, Any]:
    """An event of an erased person as kept: only the keys that say nothing about them."""
    if not isinstance(payload, dict):
        return {"erased": True}
    kept = {k: v for k, v in payload.items() if k in NEUTRAL_KEYS}
    kept["erased"] = True
    return kept
