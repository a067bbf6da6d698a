"""One chunk of a file → staging rows and rejections: reasons, fields, places, time zones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dialer.leads import phones
from dialer.leads.columns import map_columns
from dialer.leads.rows import (
    BAD_ADDRESS,
    BAD_ALTERNATE,
    DNC,
    LEADS,
    ChunkResult,
    RowSpec,
    process_chunk,
    staging_columns,
)


def _chunk(
    header: list[str],
    text: str,
    *,
    region: str | None = "US",
    kind: str = LEADS,
    alternates: tuple[str, ...] = (),
    first_row: int = 2,
    encoding: str = "utf-8",
) -> ChunkResult:
    columns = map_columns(
        header, [], has_header=True, alt_phone_columns=alternates, numbers_only=kind == DNC
    )
    spec = RowSpec(kind, columns, ",", encoding, region)
    return process_chunk(spec, first_row, text.encode(encoding))


def _staged(result: ChunkResult, kind: str = LEADS) -> list[dict[str, Any]]:
    """The COPY text rows, decoded back (as PostgreSQL would read them)."""
    rows = []
    for line in result.payload.decode().splitlines():
        values = [None if v == "\\N" else v for v in line.split("\t")]
        row = dict(zip(staging_columns(kind), values, strict=True))
        if kind == LEADS:
            row["fields"] = json.loads(row["fields"].replace("\\\\", "\\"))
        rows.append(row)
    return rows


def test_every_row_is_staged_or_rejected_with_its_row_number() -> None:
    text = (
        "Ann,+1 (212) 555-0142,NY\n"
        "Bob,,TX\n"  # missing phone
        "Cy,call me,TX\n"  # invalid
        "\n"  # blank line: no row, but it has a number
        "Di,212 555 0143,NY,extra,fields\n"  # malformed: more fields than the header
        "Ed,N/A,\n"  # a placeholder
        "Flo,555-0142,NY\n"  # no area code
        "Gus,(212) 555-0144\n"  # fewer fields: the rest is empty
    )
    result = _chunk(["name", "phone", "state"], text)
    assert result.error is None
    assert result.rows == 7 and result.staged == 2
    assert [r[:2] for r in result.rejects] == [
        (3, phones.MISSING_PHONE),
        (4, phones.INVALID_NUMBER),
        (6, phones.MALFORMED_ROW),
        (7, phones.MISSING_PHONE),
        (8, phones.INVALID_NUMBER),
    ]
    assert result.rejects[1][2] == "call me"
    assert "5 fields where the header has 3" in result.rejects[2][3]
    assert [r["row_no"] for r in _staged(result)] == ["2", "9"]


def test_staged_row_carries_fields_place_and_priority() -> None:
    text = 'Zoë,"+1 212 555 0142 ext. 9",NY,10001,"says ""hi""\tthen\\ leaves",7\n'
    result = _chunk(["Name", "Phone", "State", "Zip", "Notes", "Priority"], text)
    [row] = _staged(result)
    assert row["phone_e164"] == "+12125550142"
    assert row["raw_phone"] == "+1 212 555 0142 ext. 9"
    assert (row["region"], row["subdivision"], row["postal_code"]) == ("US", "NY", "10001")
    assert row["time_zones"] == "{America/New_York}"
    assert row["priority"] == "7"
    assert row["fields"] == {
        "Name": "Zoë",
        "State": "NY",
        "Zip": "10001",
        "Notes": 'says "hi"\tthen\\ leaves',
        "phone_extension": "9",
    }


@pytest.mark.parametrize(
    ("phone", "state", "postal", "subdivision", "zones"),
    [
        # A state with two zones: the area code alone cannot tell which.
        ("+1 850 555 0142", "", "", "FL", "{America/Chicago,America/New_York}"),
        # The ZIP narrows it: Pensacola is on Central time.
        ("+1 850 555 0142", "", "32501", "FL", "{America/Chicago}"),
        ("+1 850 555 0142", "Florida", "32501", "FL", "{America/Chicago}"),
        # El Paso, Texas, keeps Mountain time.
        ("+1 915 555 0142", "TX", "79901", "TX", "{America/Denver}"),
        # The state column narrows a three-zone area code.
        ("+1 208 555 0142", "ID", "", "ID", "{America/Boise,America/Los_Angeles}"),
        # An address in another state than the area code: both places' zones apply.
        ("+1 305 555 0142", "TX", "", "TX", "{America/Chicago,America/Denver,America/New_York}"),
        ("+91 98765 43210", "", "", None, "{Asia/Kolkata}"),
        ("+254 712 345678", "", "", None, "{Africa/Nairobi}"),
    ],
)
def test_time_zones_from_the_number_narrowed_by_the_address(
    phone: str, state: str, postal: str, subdivision: str | None, zones: str
) -> None:
    result = _chunk(["phone", "state", "zip"], f"{phone},{state},{postal}\n")
    [row] = _staged(result)
    assert (row["subdivision"], row["time_zones"]) == (subdivision, zones)


def test_an_address_that_does_not_fit_is_only_a_warning() -> None:
    result = _chunk(["phone", "zip"], "+1 212 555 0142,ABC\n")
    [row] = _staged(result)
    assert row["time_zones"] == "{America/New_York}" and row["postal_code"] == "ABC"
    assert result.warnings[BAD_ADDRESS] == 1


def test_alternate_numbers_are_normalised_and_bad_ones_kept_as_written() -> None:
    text = "+1 212 555 0142,(212) 555-0143,n0pe,212 555 0142\n"
    result = _chunk(["phone", "home", "work", "cell"], text, alternates=("home", "work", "cell"))
    [row] = _staged(result)
    assert row["alt_phones"] == "{+12125550143}"  # the repeat of the primary is dropped
    assert row["fields"] == {"work": "n0pe"}
    assert result.warnings[BAD_ALTERNATE] == 1


def test_binary_data_half_way_fails_the_chunk() -> None:
    result = _chunk(["phone"], "+12125550142\n+12125550143\n\x00\x01garbage\n")
    assert result.error is not None and result.error.startswith("row 4: binary data")


def test_dnc_lists_stage_only_numbers() -> None:
    result = _chunk(["phone", "name"], "020 7946 0958,Ann\nbad,Bob\n", region="GB", kind=DNC)
    assert _staged(result, DNC) == [
        {"row_no": "2", "raw_phone": "020 7946 0958", "phone_e164": "+442079460958"}
    ]
    assert [r[1] for r in result.rejects] == [phones.INVALID_NUMBER]


def test_windows_1252_chunks_decode() -> None:
    result = _chunk(["phone", "name"], "06 12 34 56 78,Müller\n", region="FR", encoding="cp1252")
    [row] = _staged(result)
    assert row["fields"] == {"name": "Müller"}
