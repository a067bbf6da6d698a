"""Differential check of the two phone backends: generated numbers, and what a lead keeps.

Used by the CI parity test (a few tens of thousands of cases) and by
``bench/phone_parity_bench.py`` (a million and more). A case is (text, default region); its
outcome is everything the importer and the calling rules read from a number: the rejection
(reason and detail) or the E.164 text, extension, parsed fields, region, number type,
area-code place and time zones.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import phonenumbers
from phonenumbers import PhoneNumberType, geocoder
from phonenumbers import timezone as pn_timezone

from dialer.compliance.place import resolve_place
from dialer.compliance.rulebook import load_rulebook
from dialer.leads import numbers, phones

_TYPES = (
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
)
_EXTENSIONS = (" ext. 12", " x 7", " #301", ";ext=45", " extension 9")
_GARBAGE = ("n/a", "abc", "+", "++1", "12", "0", "call me", "+999 123 456", "1.2E+11", "---")
_FULL_WIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}  # full-width digits


def pack_regions() -> tuple[str, ...]:
    """The countries the shipped rule packs name (the default pack covers all the rest)."""
    book = load_rulebook()
    found = {p.country for p in book.packs if p.country != "*"}
    return tuple(sorted(found))


def _examples(region: str) -> list[phonenumbers.PhoneNumber]:
    found = []
    for kind in _TYPES:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            found.append(example)
    return found


def _written(
    rnd: random.Random, cc: int, nsn: str, region: str
) -> Iterator[tuple[str, str | None]]:
    """``nsn`` of country ``cc`` as people write it: national, international, messy."""
    groups = " ".join(nsn[i : i + 3] for i in range(0, len(nsn), 3))
    yield f"+{cc} {groups}", None
    yield f"+{cc}{nsn}", rnd.choice((None, region, "US"))
    yield f"00{cc} {nsn}", region
    yield f"011 {cc} {nsn}", "US"
    yield f"0{nsn}", region
    yield f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}", region
    yield nsn.replace("", ".")[1:-1] if rnd.random() < 0.1 else f"{nsn[:2]}.{nsn[2:]}", region
    yield f"+{cc} {nsn}" + rnd.choice(_EXTENSIONS), None
    yield nsn + rnd.choice(_EXTENSIONS), region
    yield nsn[: max(len(nsn) - rnd.randint(1, 4), 1)], region  # too short
    yield nsn + str(rnd.randint(0, 99)), region  # too long
    yield f"{cc}{nsn}.0", region  # a spreadsheet's float
    if rnd.random() < 0.2:
        yield f"+{cc} {nsn}".translate(_FULL_WIDTH), None


def _mutate(rnd: random.Random, nsn: str) -> str:
    """The example number with its last digits changed (ranges near real numbers)."""
    keep = max(len(nsn) - rnd.randint(2, 6), 1)
    return nsn[:keep] + "".join(str(rnd.randint(0, 9)) for _ in range(len(nsn) - keep))


def generate(
    count: int, *, seed: int = 17, regions: tuple[str, ...] = ()
) -> Iterator[tuple[str, str | None]]:
    """``count`` cases: mostly the rule packs' countries, then every supported region."""
    rnd = random.Random(seed)
    deep = regions or pack_regions()
    every = sorted(phonenumbers.SUPPORTED_REGIONS)
    produced = 0
    while produced < count:
        region = rnd.choice(deep) if rnd.random() < 0.7 else rnd.choice(every)
        examples = _examples(region)
        if not examples or rnd.random() < 0.02:
            produced += 1
            yield rnd.choice(_GARBAGE), region
            continue
        example = rnd.choice(examples)
        nsn = _mutate(rnd, phonenumbers.national_significant_number(example))
        for case in _written(rnd, example.country_code or 0, nsn, region):
            produced += 1
            yield case
            if produced >= count:
                return


def outcome(text: str, region: str | None) -> tuple[object, ...]:
    """Everything the importer and the calling rules read from the number."""
    found = phones.normalise_number(text, region)
    if isinstance(found, phones.Rejection):
        return ("rejected", found.reason, found.detail)
    parsed = found.parsed
    place = resolve_place(parsed)
    return (
        found.e164,
        found.extension,
        parsed,
        phonenumbers.is_valid_number(parsed),
        phonenumbers.region_code_for_number(parsed),
        phonenumbers.number_type(parsed),
        geocoder.description_for_number(parsed, "en"),
        pn_timezone.time_zones_for_number(parsed),
        place,
    )


def compare(cases: list[tuple[str, str | None]]) -> list[tuple[str, str | None, object, object]]:
    """Cases whose outcome differs between phonenumbers and the accelerator (empty: parity)."""
    with numbers.using(numbers.PHONENUMBERS):
        slow = [outcome(t, r) for t, r in cases]
    with numbers.using(numbers.RPHONENUMBERS):
        fast = [outcome(t, r) for t, r in cases]
    return [(t, r, a, b) for (t, r), a, b in zip(cases, slow, fast, strict=True) if a != b]


def raw_disagreements(cases: list[tuple[str, str | None]]) -> dict[int, int]:
    """Country code → cases where the two libraries themselves disagree on a number the
    accelerator calls valid (what the per-country fallback must cover)."""
    fast = numbers._import_fast()
    if fast is None:
        return {}
    found: dict[int, int] = {}
    for text, region in cases:
        try:
            quick = fast.parse(text, region)
        except fast.NumberParseException:
            continue
        if not fast.is_valid_number(quick):
            continue
        try:
            slow = phonenumbers.parse(text, region)
            same = phonenumbers.is_valid_number(slow) and (
                slow.country_code,
                slow.national_number,
                slow.extension,
                slow.italian_leading_zero,
            ) == (
                quick.country_code,
                quick.national_number,
                quick.extension,
                quick.italian_leading_zero,
            )
        except phonenumbers.NumberParseException:
            same = False
        if not same:
            found[quick.country_code] = found.get(quick.country_code, 0) + 1
    return found
