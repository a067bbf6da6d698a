"""Which column holds what: the phone (named or auto-detected), alternates, state, postal code.

Spreadsheets and CRM exports name the phone column in many ways (``Phone``, ``Mobile No.``,
``Cell Phone``, ``MSISDN`` …); the first column whose name is a known phone name wins,
then the first whose name contains a phone word. Every other column is kept in the lead's
``fields`` under its header name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dialer.errors import ValidationError

_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Exact names (after lower-casing and dropping punctuation and spaces), best first.
PHONE_NAMES = (
    "phone",
    "phonenumber",
    "phoneno",
    "mobile",
    "mobilenumber",
    "mobileno",
    "mobilephone",
    "cell",
    "cellphone",
    "cellnumber",
    "telephone",
    "telephonenumber",
    "tel",
    "msisdn",
    "number",
    "contactnumber",
    "contactphone",
    "primaryphone",
    "phone1",
    "mobile1",
    "telefono",
    "telefon",
    "portable",
    "whatsapp",
)
_PHONE_WORDS = frozenset({"phone", "mobile", "cell", "tel", "telephone", "msisdn", "number"})
STATE_NAMES = ("state", "province", "stateprovince", "stateorprovince", "statecode", "st", "prov")
POSTAL_NAMES = ("zip", "zipcode", "zip5", "postcode", "postalcode", "postal", "pincode", "pin")
AREA_CODE_NAMES = ("areacode", "npa")
PRIORITY_NAMES = ("priority",)
# Consent and relationship columns (``leads.consent``): header name (squashed) → column.
CONSENT_NAMES = {
    "consent": "consent",
    "consentat": "consent_at",
    "consentsource": "consent_source",
    "consentrevokedat": "consent_revoked_at",
    "ebrpurchaseat": "ebr_purchase_at",
    "ebrinquiryat": "ebr_inquiry_at",
}


def squash(name: str) -> str:
    """A header reduced for matching: ``"Mobile No."`` → ``"mobileno"``."""
    return _NON_ALNUM.sub("", name.strip().lower())


def _words(name: str) -> set[str]:
    return {w for w in _NON_ALNUM.split(name.strip().lower()) if w}


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Column indexes (0-based) of what the importer reads, and the ``fields`` key of every
    other column (``None``: not kept in ``fields``). Picklable: sent to worker processes."""

    width: int
    names: tuple[str, ...]
    phone: int
    area_code: int | None
    alternates: tuple[int, ...]
    state: int | None
    postal: int | None
    priority: int | None
    field_names: tuple[str | None, ...]
    consent: tuple[tuple[str, int], ...] = ()  # (lead column, index) of consent columns


def unique_names(header: Sequence[str]) -> tuple[str, ...]:
    """Header names made usable as keys: blanks become ``column_N``, repeats get ``_2``…"""
    seen: dict[str, int] = {}
    names = []
    for i, raw in enumerate(header, start=1):
        name = raw.strip() or f"column_{i}"
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        names.append(name if count == 1 else f"{name}_{count}")
    return tuple(names)


def _find(header: Sequence[str], names: Sequence[str]) -> int | None:
    squashed = [squash(h) for h in header]
    for name in names:
        if name in squashed:
            return squashed.index(name)
    return None


def _named(header: Sequence[str], wanted: str, field: str) -> int:
    """The index of the column the user named (by name, or by 1-based position)."""
    text = wanted.strip()
    for i, name in enumerate(header):
        if name.strip().lower() == text.lower():
            return i
    squashed = [squash(h) for h in header]
    if squash(text) and squashed.count(squash(text)) == 1:
        return squashed.index(squash(text))
    if text.isdigit() and 1 <= int(text) <= len(header):
        return int(text) - 1
    raise ValidationError(f"no column named {wanted!r} (columns: {', '.join(header)})", field=field)


def _looks_like_number(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    return digits >= 6 and not any(c.isalpha() for c in value.lower().replace("ext", ""))


def detect_phone(
    header: Sequence[str], sample: Sequence[Sequence[str]], *, has_header: bool
) -> int | None:
    """The phone column of a file, or None when nothing looks like one."""
    if has_header:
        found = _find(header, PHONE_NAMES)
        if found is not None:
            return found
        for i, name in enumerate(header):
            if _words(name) & _PHONE_WORDS:
                return i
    if len(header) == 1:
        return 0
    for row in sample:
        for i, value in enumerate(row):
            if _looks_like_number(value):
                return i
    return None


def map_columns(
    header: Sequence[str],
    sample: Sequence[Sequence[str]],
    *,
    has_header: bool,
    phone_column: str | None = None,
    alt_phone_columns: Sequence[str] = (),
    numbers_only: bool = False,
) -> ColumnMap:
    """Decide the columns; ``ValidationError`` (field ``phone_column``) when no phone column.

    ``numbers_only`` (DNC lists): nothing but the number (and an area code column) is read.
    """
    names = unique_names(header)
    if phone_column:
        phone = _named(names, phone_column, "phone_column")
    else:
        found = detect_phone(names, sample, has_header=has_header)
        if found is None:
            raise ValidationError(
                f"no phone column found (columns: {', '.join(names)}): "
                "say which column holds the phone numbers",
                field="phone_column",
            )
        phone = found
    alternates = tuple(
        i
        for i in dict.fromkeys(_named(names, c, "alt_phone_columns") for c in alt_phone_columns)
        if i != phone
    )
    area_code = _find(names, AREA_CODE_NAMES) if has_header else _headerless_area(sample, phone)
    if area_code == phone:
        area_code = None
    state = postal = priority = None
    consent: tuple[tuple[str, int], ...] = ()
    if not numbers_only and has_header:
        state = _find(names, STATE_NAMES)
        postal = _find(names, POSTAL_NAMES)
        priority = _find(names, PRIORITY_NAMES)
        squashed = [squash(n) for n in names]
        consent = tuple(
            (CONSENT_NAMES[name], i) for i, name in enumerate(squashed) if name in CONSENT_NAMES
        )
    excluded = {phone, area_code, priority, *alternates, *(i for _n, i in consent)}
    field_names = tuple(
        None if numbers_only or i in excluded else name for i, name in enumerate(names)
    )
    return ColumnMap(
        width=len(names),
        names=names,
        phone=phone,
        area_code=area_code,
        alternates=alternates,
        state=state,
        postal=postal,
        priority=priority,
        field_names=field_names,
        consent=consent,
    )


def _headerless_area(sample: Sequence[Sequence[str]], phone: int) -> int | None:
    """Registry files written as ``201,2345678`` (area code, then the local number)."""
    if phone != 1 or not sample:
        return None
    areas = all(len(r) > 1 and len(r[0].strip()) == 3 and r[0].strip().isdigit() for r in sample)
    sevens = sum(len(_NON_ALNUM.sub("", r[1])) == 7 for r in sample if len(r) > 1)
    return 0 if areas and sevens * 2 >= len(sample) else None
