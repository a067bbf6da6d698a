"""Place resolution: which rules and which time zones apply to a number (+ address)."""

from __future__ import annotations

import phonenumbers
import pytest

from dialer.compliance import LeadInfo, resolve_place
from dialer.compliance.geodata import nanp_table


@pytest.mark.parametrize(
    ("number", "region", "subdivision", "zones"),
    [
        ("+12125550123", "US", "NY", ("America/New_York",)),
        ("+13055550123", "US", "FL", ("America/New_York",)),
        ("+14165550123", "CA", "ON", ("America/Toronto",)),
        ("+16045550123", "CA", "BC", ("America/Vancouver",)),
        ("+17875550123", "PR", None, ("America/Puerto_Rico",)),
        ("+18085550123", "US", "HI", ("Pacific/Honolulu",)),
    ],
)
def test_nanp_area_code_gives_country_state_and_zone(
    number: str, region: str, subdivision: str | None, zones: tuple[str, ...]
) -> None:
    place = resolve_place(number)
    assert (place.region, place.subdivision, place.time_zones) == (region, subdivision, zones)


@pytest.mark.parametrize(
    ("number", "zones"),
    [
        ("+18505550123", {"America/New_York", "America/Chicago"}),  # Florida panhandle
        ("+14485550123", {"America/New_York", "America/Chicago"}),  # its overlay
        ("+12705550123", {"America/New_York", "America/Chicago"}),  # western Kentucky
        ("+14235550123", {"America/New_York", "America/Chicago"}),  # east Tennessee
        ("+18125550123", {"America/New_York", "America/Chicago"}),  # southern Indiana
        ("+19065550123", {"America/New_York", "America/Chicago"}),  # Michigan's UP
        ("+15415550123", {"America/Los_Angeles", "America/Denver"}),  # Oregon (Malheur)
        ("+14325550123", {"America/Chicago", "America/Denver"}),  # west Texas (manual)
        ("+13345550123", {"America/Chicago", "America/New_York"}),  # Phenix City (manual)
        ("+13065550123", {"America/Regina", "America/Edmonton"}),  # Lloydminster (manual)
        ("+18075550123", {"America/Toronto", "America/Winnipeg"}),  # north-western Ontario
    ],
)
def test_area_codes_spanning_zones_keep_every_zone(number: str, zones: set[str]) -> None:
    assert set(resolve_place(number).time_zones) == zones


def test_area_code_table_covers_every_geographic_us_and_canadian_code() -> None:
    table = nanp_table()
    assert len(table) > 400
    silent = [a.npa for a in table.values() if a.region in ("US", "CA") and not a.subdivisions]
    # Only non-geographic codes (5xx/6xx personal and machine numbers, toll-free, 900) lack
    # a state; they fall back to every zone of their country.
    non_geographic = {"800", "833", "844", "855", "866", "877", "888", "900"}
    assert all(npa[0] in "56" or npa in non_geographic for npa in silent)
    assert len(resolve_place("+18005550123").time_zones) > 20
    assert table["902"].subdivisions == ("NS", "PE")


def test_zip_narrows_a_two_zone_state() -> None:
    assert resolve_place("+18505550123", postal_code="32501").time_zones == ("America/Chicago",)
    assert resolve_place("+14325550123", postal_code="79901").time_zones == ("America/Denver",)


def test_zip_without_zone_detail_keeps_the_state_zones() -> None:
    place = resolve_place("+18505550123", postal_code="32301")  # Tallahassee: not narrowed
    assert set(place.time_zones) == {"America/New_York", "America/Chicago"}


def test_disagreeing_address_adds_the_address_place() -> None:
    place = resolve_place("+13055550123", state="NY")
    assert place.subdivisions == ("FL", "NY")
    assert place.subdivision == "NY"
    place = resolve_place("+13055550123", postal_code="90210")  # Beverly Hills, CA
    assert place.subdivisions == ("FL", "CA")
    assert set(place.time_zones) == {"America/New_York", "America/Los_Angeles"}


def test_agreeing_address_picks_one_of_an_area_codes_provinces() -> None:
    assert resolve_place("+19025550123").subdivisions == ("NS", "PE")
    place = resolve_place("+19025550123", postal_code="C1A 4P3")
    assert (place.subdivision, place.subdivisions) == ("PE", ("PE",))


def test_canadian_postal_code_gives_the_province() -> None:
    place = resolve_place("+14165550123", postal_code="t2p1j9")
    assert place.subdivisions == ("ON", "AB")
    assert set(place.time_zones) == {"America/Toronto", "America/Edmonton"}


@pytest.mark.parametrize(
    ("postcode", "state", "zones"),
    [
        ("2000", "NSW", ("Australia/Sydney",)),
        ("2880", "NSW", ("Australia/Broken_Hill",)),
        ("4000", "QLD", ("Australia/Brisbane",)),
        ("0800", "NT", ("Australia/Darwin",)),
        ("6000", "WA", ("Australia/Eucla", "Australia/Perth")),
    ],
)
def test_australian_postcode_narrows_a_mobile(
    postcode: str, state: str, zones: tuple[str, ...]
) -> None:
    mobile = resolve_place("+61412345678")
    assert len(mobile.time_zones) >= 10  # unknown state: every Australian zone
    place = resolve_place("+61412345678", postal_code=postcode)
    assert (place.subdivision, place.time_zones) == (state, zones)


def test_queensland_landline_is_brisbane_time_not_sydney() -> None:
    assert resolve_place("+61738765432").time_zones == ("Australia/Brisbane", "Australia/Sydney")
    assert resolve_place("+61738765432", postal_code="4000").time_zones == ("Australia/Brisbane",)


@pytest.mark.parametrize(
    ("region", "zones"),
    [
        ("IN", ("Asia/Kolkata",)),
        ("KE", ("Africa/Nairobi",)),
        ("BD", ("Asia/Dhaka",)),
        ("TZ", ("Africa/Dar_es_Salaam",)),
        ("FR", ("Europe/Paris",)),
        ("GB", ("Europe/London",)),
    ],
)
def test_international_numbers(region: str, zones: tuple[str, ...]) -> None:
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
        number = phonenumbers.example_number_for_type(region, kind)
        place = resolve_place(number)
        assert place.region == region
        if kind == phonenumbers.PhoneNumberType.FIXED_LINE or region != "GB":
            assert place.time_zones == zones


def test_indian_state_is_kept_and_old_zone_names_are_modernised() -> None:
    place = resolve_place("+918123456789", state="MH")
    assert (place.region, place.subdivision, place.time_zones) == ("IN", "MH", ("Asia/Kolkata",))


def test_national_number_with_default_region_and_state_names() -> None:
    assert resolve_place("(305) 555-0123", default_region="US").subdivision == "FL"
    assert resolve_place("+13055550123", state="florida").subdivision == "FL"
    assert resolve_place("+13055550123", state="US-FL").subdivision == "FL"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"state": "ZZ"}, "unknown state/province 'ZZ' for US"),
        ({"postal_code": "3310"}, "bad US ZIP code"),
    ],
)
def test_bad_address_is_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_place("+13055550123", **kwargs)


def test_unparseable_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        resolve_place("call me maybe")


def test_lead_info_from_phone_stores_what_the_engine_needs() -> None:
    lead = LeadInfo.from_phone("305 555 0123", default_region="US", postal_code="10001")
    assert lead.phone_e164 == "+13055550123"
    assert (lead.region, lead.subdivision, lead.postal_code) == ("US", "NY", "10001")
    assert lead.time_zones == ("America/New_York",)
