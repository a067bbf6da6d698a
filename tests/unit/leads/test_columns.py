"""Which column is the phone (named or detected), and what goes into the lead's fields."""

from __future__ import annotations

import pytest

from dialer.errors import ValidationError
from dialer.leads.columns import map_columns, unique_names


@pytest.mark.parametrize(
    ("header", "phone"),
    [
        (["Name", "Phone", "City"], "Phone"),
        (["name", "Mobile No.", "home phone"], "Mobile No."),
        (["Customer", "Cell Phone", "Email"], "Cell Phone"),
        (["MSISDN", "plan"], "MSISDN"),
        (["first", "Work Phone", "Home Phone"], "Work Phone"),  # a phone word: first one
        (["Name", "Contact Number"], "Contact Number"),
        (["Téléphone", "Nom"], "Téléphone"),
    ],
)
def test_the_phone_column_is_found_by_name(header: list[str], phone: str) -> None:
    cols = map_columns(header, [], has_header=True)
    assert cols.names[cols.phone] == phone
    assert cols.field_names[cols.phone] is None  # not repeated in fields


def test_a_named_column_wins_and_must_exist() -> None:
    cols = map_columns(["phone", "alt"], [], has_header=True, phone_column="ALT")
    assert cols.phone == 1
    with pytest.raises(ValidationError, match="no column named 'fax'") as err:
        map_columns(["phone", "alt"], [], has_header=True, phone_column="fax")
    assert err.value.field == "phone_column"


def test_no_phone_column_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="no phone column found") as err:
        map_columns(["name", "email"], [["Ann", "ann@example.com"]], has_header=True)
    assert err.value.field == "phone_column"


def test_values_decide_when_names_do_not() -> None:
    cols = map_columns(["name", "contact"], [["Ann", "+91 98765 43210"]], has_header=True)
    assert cols.phone == 1


def test_address_alternates_and_priority_columns() -> None:
    header = ["Phone", "Other Phone", "State", "ZIP Code", "Priority", "Notes"]
    cols = map_columns(header, [], has_header=True, alt_phone_columns=["other phone"])
    assert (cols.phone, cols.alternates, cols.state, cols.postal, cols.priority) == (
        0,
        (1,),
        2,
        3,
        4,
    )
    assert cols.field_names == (None, None, "State", "ZIP Code", None, "Notes")


def test_registry_files_with_area_code_and_number() -> None:
    cols = map_columns(
        ["column_1", "column_2"],
        [["201", "2345678"], ["212", "5550142"]],
        has_header=False,
        numbers_only=True,
    )
    assert (cols.area_code, cols.phone) == (0, 1)
    assert cols.field_names == (None, None)


def test_header_names_become_usable_keys() -> None:
    assert unique_names(["Name", "", "name", "Phone"]) == ("Name", "column_2", "name_2", "Phone")
