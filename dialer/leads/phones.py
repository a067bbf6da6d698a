"""Phone numbers as people write them in spreadsheets and CRMs → E.164, or a reason why not.

``+91 98765 43210``, ``098765-43210`` (with the list's default region), ``(212) 555-0142``,
``00 44 20 7946 0958``, ``+1 212 555 0142 ext. 12`` and vanity letters all parse; what does
not is rejected with a reason from ``REASONS`` and a detail a person can act on. This is the
hot path of a list import (run in worker processes), so the common case is one
``phonenumbers.parse`` and one ``is_valid_number`` and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber

from dialer.leads import numbers

# Why a row did not become a new lead (or DNC entry). Stable names: API, CSV report, metrics.
MISSING_PHONE = "missing_phone"
INVALID_NUMBER = "invalid_number"
NO_COUNTRY_CODE = "no_country_code"  # national number, and the list has no default region
MALFORMED_ROW = "malformed_row"
DUPLICATE_IN_FILE = "duplicate_in_file"
DUPLICATE_IN_CAMPAIGN = "duplicate_in_campaign"
DNC = "dnc"
ALREADY_LISTED = "already_listed"  # DNC imports: the entry exists already
ERASED = "erased"  # the person was erased at their request (a hashed suppression)
REASONS = (
    MISSING_PHONE,
    INVALID_NUMBER,
    NO_COUNTRY_CODE,
    MALFORMED_ROW,
    DUPLICATE_IN_FILE,
    DUPLICATE_IN_CAMPAIGN,
    DNC,
    ALREADY_LISTED,
    ERASED,
)

# Cells that mean "no number" rather than a wrong one.
_PLACEHOLDERS = frozenset(
    {"", "-", "--", "n/a", "na", "none", "null", "nil", "#n/a", "unknown", "tbd", "?"}
)
_PLACEHOLDER_MAX = max(map(len, _PLACEHOLDERS))
_SCIENTIFIC = re.compile(r"^[+-]?\d(?:[.,]\d+)?[eE]\+?\d+$")
_EXCEL_FLOAT = re.compile(r"^\+?\d+\.0$")
_NON_DIGITS = re.compile(r"\D")
_NATIONAL_MIN_DIGITS = 6  # fewer digits are no national number anywhere: not "add a region"

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_POSSIBILITY = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong number of digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without its area code",
}


@dataclass(frozen=True, slots=True)
class Number:
    """A valid number: E.164 text, the parsed object (for place resolution), its extension."""

    e164: str
    parsed: PhoneNumber
    extension: str | None


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a value is not a usable number: a reason from ``REASONS`` and a readable detail."""

    reason: str
    detail: str


def _region_name(number: PhoneNumber) -> str:
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return f"+{number.country_code}" if region in (None, "ZZ", "001") else str(region)


def _invalid(number: PhoneNumber) -> Rejection:
    why = phonenumbers.is_possible_number_with_reason(number)
    detail = _POSSIBILITY.get(why) or f"not a valid {_region_name(number)} number"
    return Rejection(INVALID_NUMBER, detail)


def _parse_error(exc: NumberParseException, region: str | None, text: str) -> Rejection:
    no_country = exc.error_type == NumberParseException.INVALID_COUNTRY_CODE
    if no_country and region is None and not text.startswith("+"):
        if len(_NON_DIGITS.sub("", text)) < _NATIONAL_MIN_DIGITS:
            return Rejection(INVALID_NUMBER, "too short")  # no region would make it a number
        return Rejection(
            NO_COUNTRY_CODE,
            "no country code: write it with +country code or set the list's default region",
        )
    return Rejection(INVALID_NUMBER, _PARSE_ERRORS.get(exc.error_type, "not a phone number"))


def _international_retry(text: str) -> PhoneNumber | None:
    """``00 44 20 …`` read as ``+44 20 …``: the international prefix of most of the world,
    tried when the default region's own reading fails (e.g. in the US, whose prefix is 011)."""
    digits = _NON_DIGITS.sub("", text)
    if not digits.startswith("00") or text.lstrip().startswith("+"):
        return None
    try:
        number = phonenumbers.parse("+" + digits[2:], None)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _clean(raw: str) -> str | Rejection:
    text = raw.strip()
    if len(text) <= _PLACEHOLDER_MAX and text.lower() in _PLACEHOLDERS:
        return Rejection(MISSING_PHONE, "no number")
    if text.endswith(".0") and _EXCEL_FLOAT.match(text):
        return text[:-2]  # a spreadsheet wrote the number as a float
    if ("E" in text or "e" in text) and _SCIENTIFIC.match(text):
        return Rejection(
            INVALID_NUMBER,
            "written in scientific notation by a spreadsheet (digits are lost): "
            "format the column as text and export again",
        )
    return text


def _accelerated(
    fast: ModuleType, codes: frozenset[int], text: str, region: str | None
) -> Number | None:
    """The accelerator's reading of ``text`` when it finds a valid number of a country code
    where it agrees with phonenumbers; None: let phonenumbers decide (and word the reason)."""
    try:
        number = fast.parse(text, region)
    except fast.NumberParseException:
        return None
    cc = number.country_code
    if cc in codes or not fast.is_valid_number(number):
        return None
    parsed = PhoneNumber(
        country_code=cc,
        national_number=number.national_number,
        extension=number.extension,
        italian_leading_zero=number.italian_leading_zero,
        number_of_leading_zeros=number.number_of_leading_zeros,
    )
    e164 = f"+{cc}{phonenumbers.national_significant_number(parsed)}"
    return Number(e164, parsed, number.extension or None)


def normalise_number(raw: str, region: str | None) -> Number | Rejection:
    """``raw`` as a valid number, reading numbers without a country code in ``region``."""
    text = _clean(raw)
    if isinstance(text, Rejection):
        return text
    backend = numbers.active()
    if backend.fast is not None:
        found = _accelerated(backend.fast, backend.fallback_codes, text, region)
        if found is not None:
            return found
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        retried = _international_retry(text)
        if retried is None:
            return _parse_error(exc, region, text)
        number = retried
    else:
        if not phonenumbers.is_valid_number(number):
            retried = _international_retry(text)
            if retried is None:
                return _invalid(number)
            number = retried
    # What format_number(E164) returns, without its generic formatting machinery.
    e164 = f"+{number.country_code}{phonenumbers.national_significant_number(number)}"
    return Number(e164, number, number.extension or None)


def check_region(region: str | None) -> str | None:
    """A default region as ``"IN"``; ``ValueError`` unless it is a country phonenumbers knows."""
    if region is None or not region.strip():
        return None
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {region!r}: use an ISO 3166-1 alpha-2 code such as IN")
    return code


def warm_up(regions: tuple[str, ...] = (), backend: str | None = None) -> None:
    """Choose the parser (``backend``: see ``numbers``), load phonenumbers' metadata and keep
    its compiled patterns, so the first chunk of an import is as fast as the rest (worker
    processes call this once when they start)."""
    if backend is not None:
        numbers.select(backend)
    phonenumbers.enable_pattern_cache()
    for region in regions or ("US", "CA", "GB", "IN", "BD", "KE", "TZ", "FR", "AU", "DE"):
        example = phonenumbers.example_number(region)
        if example is not None:
            phonenumbers.is_valid_number(example)
