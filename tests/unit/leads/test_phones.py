"""Numbers as people write them → E.164, per country; unusable ones → reason and detail."""

from __future__ import annotations

import pytest

from dialer.leads import phones
from dialer.leads.phones import Number, Rejection, check_region, normalise_number

VALID = [
    # India: the list's default region, written every way
    ("+91 98765 43210", "IN", "+919876543210"),
    ("098765-43210", "IN", "+919876543210"),
    ("9876543210", "IN", "+919876543210"),
    ("91 98765 43210", "IN", "+919876543210"),
    ("+91-98765-43210", "IN", "+919876543210"),
    ("(0) 98765 43210", "IN", "+919876543210"),
    ("'+91 98765 43210", "IN", "+919876543210"),  # a spreadsheet's text marker
    ("919876543210.0", "IN", "+919876543210"),  # a spreadsheet's float
    # Bangladesh
    ("01712-345678", "BD", "+8801712345678"),
    ("+880 1712-345678", None, "+8801712345678"),
    # Kenya, Tanzania
    ("0712 345678", "KE", "+254712345678"),
    ("+254 712 345678", None, "+254712345678"),
    ("0754 123 456", "TZ", "+255754123456"),
    # United States, Canada
    ("(212) 555-0142", "US", "+12125550142"),
    ("212.555.0142", "US", "+12125550142"),
    ("1-212-555-0142", "US", "+12125550142"),
    ("1 800 FLOWERS", "US", "+18003569377"),
    ("(416) 555-0199", "CA", "+14165550199"),
    ("+1 604 555 0123", None, "+16045550123"),
    # United Kingdom, France, Australia
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 (0)20 7946 0958", None, "+442079460958"),
    ("07400 123456", "GB", "+447400123456"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 (0)6 12 34 56 78", None, "+33612345678"),
    ("0412 345 678", "AU", "+61412345678"),
    ("(02) 9374 4000", "AU", "+61293744000"),
    # Leading zeros that belong to the number (Italy, Côte d'Ivoire)
    ("+39 06 1234 5678", None, "+390612345678"),
    ("+225 07 01 23 45 67", None, "+2250701234567"),
    # International prefixes: the region's own (011 in the US) and 00 anywhere
    ("00 44 20 7946 0958", "IN", "+442079460958"),
    ("00 44 20 7946 0958", "US", "+442079460958"),
    ("011 44 20 7946 0958", "US", "+442079460958"),
    ("00 1 212 555 0142", "IN", "+12125550142"),
]


@pytest.mark.parametrize(("raw", "region", "e164"), VALID)
def test_valid_forms(raw: str, region: str | None, e164: str) -> None:
    number = normalise_number(raw, region)
    assert isinstance(number, Number), number
    assert number.e164 == e164


@pytest.mark.parametrize(
    ("raw", "region", "ext"),
    [("+1 212 555 0142 x 99", "US", "99"), ("(212) 555-0142 ext. 7", "US", "7")],
)
def test_extensions_are_kept_apart_from_the_number(raw: str, region: str, ext: str) -> None:
    number = normalise_number(raw, region)
    assert isinstance(number, Number)
    assert (number.e164, number.extension) == ("+12125550142", ext)


INVALID = [
    ("+91 0000 000000", None, phones.INVALID_NUMBER, "not a valid IN number"),
    ("+91 98765 4321", None, phones.INVALID_NUMBER, "not a valid IN number"),
    ("+880 1712-34567", None, phones.INVALID_NUMBER, "not a valid BD number"),
    ("+254 812 345678", None, phones.INVALID_NUMBER, "not a valid KE number"),
    ("+255 12 345", None, phones.INVALID_NUMBER, "too short"),
    ("+1 416 555 019", None, phones.INVALID_NUMBER, "too short"),
    ("555-0142", "US", phones.INVALID_NUMBER, "local number without its area code"),
    ("+33 6 12 34 56 789", None, phones.INVALID_NUMBER, "too long"),
    ("0612", "FR", phones.INVALID_NUMBER, "too short"),
    ("+61 412 345 67", None, phones.INVALID_NUMBER, "not a valid AU number"),
    ("98765432101234", "IN", phones.INVALID_NUMBER, "too long"),
    ("call me", "IN", phones.INVALID_NUMBER, "not a phone number"),
    ("+999 123", "US", phones.INVALID_NUMBER, "unknown country code"),
    ("0712 345678", None, phones.NO_COUNTRY_CODE, "no country code"),
    ("12", None, phones.INVALID_NUMBER, "too short"),
    ("9.18765E+11", "IN", phones.INVALID_NUMBER, "scientific notation"),
    ("", "IN", phones.MISSING_PHONE, "no number"),
    ("   ", "IN", phones.MISSING_PHONE, "no number"),
    ("N/A", "IN", phones.MISSING_PHONE, "no number"),
    ("-", "IN", phones.MISSING_PHONE, "no number"),
]


@pytest.mark.parametrize(("raw", "region", "reason", "detail"), INVALID)
def test_unusable_values_say_why(raw: str, region: str | None, reason: str, detail: str) -> None:
    rejection = normalise_number(raw, region)
    assert isinstance(rejection, Rejection), rejection
    assert rejection.reason == reason
    assert detail in rejection.detail


def test_regions_are_checked_and_normalised() -> None:
    assert check_region(" in ") == "IN"
    assert check_region(None) is None and check_region("") is None
    with pytest.raises(ValueError, match="unknown region"):
        check_region("XX")
