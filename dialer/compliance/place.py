"""Where is the callee? Country, subdivision(s) and time zones of a phone number (+ address).

The rules that apply to a call depend on the callee's place, and the calling hours on the
callee's local time. A number alone gives the country and, for NANP numbers, the state or
province of its area code; the lead's address (state or postal code) narrows the time zones
or, when it disagrees with the area code, adds the address's place: both places' rules apply
and the number is only callable when every one of its possible zones allows it.

Resolution is memoised by area code / number prefix because the lead importer calls it for
millions of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumber
from phonenumbers import timezone as pn_timezone
from phonenumbers import tzdata as pn_tzdata

from dialer.compliance import geodata

UNKNOWN_ZONE = "Etc/Unknown"
_CACHE_LIMIT = 200_000

_US_ZIP = re.compile(r"^\d{5}(?:-?\d{4})?$")
_CA_POSTAL = re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$")
_AU_POSTCODE = re.compile(r"^\d{4}$")
_SUBDIVISION_CODE = re.compile(r"^[A-Z0-9]{1,3}$")


@dataclass(frozen=True, slots=True)
class Place:
    """The callee's place: what the rule packs and the calling-hours check need.

    ``subdivision`` is the single best subdivision to store on the lead; ``subdivisions`` is
    every subdivision whose rules apply (area-code state and address state when they
    disagree); ``time_zones`` are IANA names, all of which must allow a call.
    """

    region: str | None
    subdivision: str | None
    subdivisions: tuple[str, ...]
    time_zones: tuple[str, ...]


_number_cache: dict[tuple[int, str, int], Place] = {}


def _national_number(number: PhoneNumber) -> str:
    digits = str(number.national_number)
    if number.italian_leading_zero:
        digits = "0" * max(number.number_of_leading_zeros or 1, 1) + digits
    return digits


def _clean_zones(zones: tuple[str, ...] | list[str], region: str | None) -> tuple[str, ...]:
    known = tuple(sorted({geodata.canonical_zone(z) for z in zones if z != UNKNOWN_ZONE}))
    if known or region is None:
        return known
    return geodata.country_zones(region)


def _region_of(number: PhoneNumber) -> str | None:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code or 0, ())
    if len(regions) == 1 and regions[0] != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return str(regions[0])
    region = phonenumbers.region_code_for_number(number)
    return str(region) if region else None


def _single(subdivisions: tuple[str, ...]) -> str | None:
    return subdivisions[0] if len(subdivisions) == 1 else None


def _place_of_number(number: PhoneNumber) -> Place:
    national = _national_number(number)
    if number.country_code == 1:
        area = geodata.nanp_table().get(national[:3])
        if area is not None:
            zones = area.zones or geodata.country_zones(area.region)
            subs = area.subdivisions
            return Place(area.region, _single(subs), subs, zones)
    region = _region_of(number)
    if region == "AU":
        zones = tuple(sorted(geodata.au_number_zones(national)))
    else:
        zones = _clean_zones(pn_timezone.time_zones_for_number(number), region)
    return Place(region, None, (), zones)


_key_digits: dict[int, int] = {}


def _digits_that_matter(country_code: int) -> int:
    """How many leading national digits decide region and zones for this country code.

    Countries with one region and only country-level zone data: none. Countries whose zone
    data goes deeper: as deep as it goes. Country codes shared by several regions (+44 for
    GB/GG/JE/IM, +7, +61, ...): seven, enough for phonenumbers' leading-digit patterns.
    """
    found = _key_digits.get(country_code)
    if found is None:
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
        cc = str(country_code)
        deepest = max((len(k) for k in pn_tzdata.TIMEZONE_DATA if k.startswith(cc)), default=0)
        found = 7 if len(regions) != 1 else max(deepest - len(cc), 0)
        _key_digits[country_code] = found
    return found


def _number_place_cached(number: PhoneNumber) -> Place:
    national = _national_number(number)
    country_code = number.country_code or 0
    if country_code == 1:
        key = (1, national[:3], 0)
    else:
        key = (country_code, national[: _digits_that_matter(country_code)], len(national))
    place = _number_cache.get(key)
    if place is None:
        if len(_number_cache) >= _CACHE_LIMIT:
            _number_cache.clear()
        place = _number_cache[key] = _place_of_number(number)
    return place


def parse_number(number: str | PhoneNumber, default_region: str | None = None) -> PhoneNumber:
    """Parse a phone number; ``ValueError`` with a readable message if it is not one."""
    if isinstance(number, PhoneNumber):
        return number
    try:
        return phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {number!r} ({exc._msg})") from None


def normalise_subdivision(region: str | None, state: str) -> str:
    """``"fl"`` / ``"US-FL"`` / ``"Florida"`` → ``"FL"``; ``ValueError`` if not known."""
    text = state.strip()
    code = text.upper()
    if region and code.startswith(f"{region}-"):
        code = code[len(region) + 1 :]
    known = geodata.known_subdivisions(region) if region else None
    if known is not None and code not in known:
        by_name = geodata.subdivision_from_name(text)
        if by_name in known:
            return str(by_name)
        raise ValueError(f"unknown state/province {state!r} for {region}")
    if not _SUBDIVISION_CODE.match(code):
        raise ValueError(f"bad state/province code {state!r} (use the ISO 3166-2 suffix)")
    return code


def _postal_place(region: str | None, postal_code: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Subdivisions and zones a postal code tells (both empty when it tells nothing)."""
    code = postal_code.strip().upper()
    if region in ("US", "PR", "VI", "GU", "AS", "MP"):
        if not _US_ZIP.match(code):
            raise ValueError(f"bad US ZIP code {postal_code!r}")
        state = geodata.us_zip_state(code)
        return ((state,) if state else ()), geodata.us_zip_zones(code)
    if region == "CA":
        if not _CA_POSTAL.match(code):
            raise ValueError(f"bad Canadian postal code {postal_code!r}")
        return geodata.ca_postal_provinces(code), ()
    if region == "AU":
        if not _AU_POSTCODE.match(code):
            raise ValueError(f"bad Australian postcode {postal_code!r}")
        state = geodata.au_postcode_state(code)
        return ((state,) if state else ()), geodata.au_postcode_zones(code)
    return (), ()


def _address_zones(region: str, subdivisions: tuple[str, ...]) -> tuple[str, ...]:
    zones: set[str] = set()
    for sub in subdivisions:
        zones.update(geodata.subdivision_zones(region, sub))
    return tuple(sorted(zones))


def _merge(number_place: Place, state_code: str | None, postal: tuple) -> Place:
    region = number_place.region
    postal_subs, postal_zones = postal
    address_subs = tuple(dict.fromkeys(((state_code,) if state_code else ()) + postal_subs))
    if not address_subs:
        return number_place
    number_subs = number_place.subdivisions
    agree = not number_subs or set(address_subs) <= set(number_subs)
    subdivisions = address_subs if agree else tuple(dict.fromkeys(number_subs + address_subs))
    subdivision = state_code or _single(postal_subs) or number_place.subdivision
    address_zones = postal_zones or (_address_zones(region, address_subs) if region else ())
    zones = number_place.time_zones
    if address_zones:
        narrowed = tuple(sorted(set(zones) & set(address_zones)))
        both = tuple(sorted(set(zones) | set(address_zones)))
        zones = narrowed if agree and narrowed else both
    return Place(region, subdivision, subdivisions, zones)


def resolve_place(
    number: str | PhoneNumber,
    *,
    default_region: str | None = None,
    state: str | None = None,
    postal_code: str | None = None,
) -> Place:
    """Resolve the callee's place from a number and, optionally, the lead's state/postal code.

    ``ValueError`` for an unparseable number, an unknown state code, or a postal code that
    does not fit its country's format. Postal codes of countries without a table are ignored.
    """
    parsed = parse_number(number, default_region)
    place = _number_place_cached(parsed)
    if not state and not postal_code:
        return place
    state_code = normalise_subdivision(place.region, state) if state else None
    postal = _postal_place(place.region, postal_code) if postal_code else ((), ())
    return _merge(place, state_code, postal)


def nanp_subdivisions(phone_e164: str) -> tuple[str, ...]:
    """Area-code subdivisions of an E.164 NANP number (``"+1305..."`` → ``("FL",)``), fast."""
    if phone_e164.startswith("+1") and len(phone_e164) == 12:
        area = geodata.nanp_table().get(phone_e164[2:5])
        if area is not None:
            return area.subdivisions
    return ()
