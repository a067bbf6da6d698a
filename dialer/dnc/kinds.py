"""What a registry file means: its kind, its country code and the value beside each number.

* ``dnc``         the number may not get the calls the registry covers (``us_dnc``, ``dncl``)
* ``litigator``   the number belongs to a serial TCPA litigant (``litigator``): blocked
* ``wireless``    the number is known mobile (``us_wireless``): the rules' wireless = yes
* ``reassigned``  ``number,YYYY-MM-DD``: its last permanent disconnection (``us_rnd``)
* ``preference``  ``number,categories``: an NCPR preference (``ncpr_prefs``); ``0`` is
                  fully blocked, else the digits 1-8 of the accepted categories (``1#3#7``)

Files are the national numbers, one a line (docs/rule-packs.md, "Registry files").
"""

from __future__ import annotations

import re
from datetime import date

# Registry source → (country calling code, kind).
FORMATS: dict[str, tuple[int, str]] = {
    "us_dnc": (1, "dnc"),
    "dncl": (1, "dnc"),
    "litigator": (1, "litigator"),
    "us_wireless": (1, "wireless"),
    "us_rnd": (1, "reassigned"),
    "ncpr_prefs": (91, "preference"),
}
KINDS = ("dnc", "litigator", "wireless", "reassigned", "preference")
BLOCKING = ("dnc", "litigator")  # kinds whose numbers become lead status dnc
VALUED = ("reassigned", "preference")  # kinds with a value beside each number
CATEGORIES = ("1", "2", "3", "4", "5", "6", "7", "8")
CATEGORY_NAMES = {
    "1": "banking, insurance, financial products, credit cards",
    "2": "real estate",
    "3": "education",
    "4": "health",
    "5": "consumer goods and automobiles",
    "6": "communication, broadcasting, entertainment, IT",
    "7": "tourism and leisure",
    "8": "food and beverages",
}
NATIONAL = {
    1: re.compile(r"^[2-9][0-9]{2}[2-9][0-9]{6}$"),
    91: re.compile(r"^[1-9][0-9]{9}$"),
}
_SNIFF_VALUED = re.compile(rb"^\+?[0-9]{10,12}\s*[,;\t]\s*[0-9][0-9#|/ -]*\r?$")


def kind_of(source: str | None) -> str:
    return FORMATS[source][1] if source in FORMATS else "dnc"


def sniff_valued(line: bytes) -> bool:
    return bool(_SNIFF_VALUED.match(line))


def parse_value(kind: str, text: str) -> tuple[str | None, int | None]:
    """(since as ISO date, categories bitmask) of a value column; ``ValueError`` says why."""
    text = text.strip()
    if kind == "reassigned":
        digits = text.replace("-", "")
        if not re.fullmatch(r"[0-9]{8}", digits):
            raise ValueError(f"bad disconnection date {text!r} (use YYYY-MM-DD)")
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat(), None
    found = re.sub(r"[^0-9]", "", text)
    if not found or any(c not in "012345678" for c in found):
        raise ValueError(f"bad preference {text!r} (0 = fully blocked, or categories 1-8)")
    if found == "0":
        return None, 0
    if "0" in found:
        raise ValueError(f"bad preference {text!r}: 0 (fully blocked) stands alone")
    return None, sum(1 << int(c) for c in set(found))


def categories_of(mask: int) -> frozenset[str]:
    """The accepted categories of a bitmask (0: none, fully blocked)."""
    return frozenset(c for c in CATEGORIES if mask & (1 << int(c)))
