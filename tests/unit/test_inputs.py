"""The shared input checks (dialer.inputs): table tests of what is refused and a property:
every ordinary JSON document passes unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.errors import NotFound, ValidationError
from dialer.inputs import INT64_MAX, MAX_DEPTH, check_instant, check_tree, parse_json, path_id


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("NaN", "body"),
        ('{"a": -Infinity}', "body"),
        ('{"a": 1e309}', "a"),
        ('{"a": [1, 2, 9223372036854775808]}', "a[2]"),
        ('{"a": -9223372036854775809}', "a"),
        ('{"a": {"b": "x\\u0000"}}', "a.b"),
        ('{"a": ["\\udc80"]}', "a[0]"),
        ('{"\\ud800": 1}', "body"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "body"),
        ("[" * 200_000, "body"),
        ("{", "body"),
    ],
)
def test_refused_documents_name_the_field(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json(text)
    assert caught.value.field == field


def test_the_limits_themselves_pass() -> None:
    assert check_tree({"a": [INT64_MAX, -(2**63), 1.5e308, "é😀"]})
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(nested) is not None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_ordinary_documents_pass_unchanged(value: object) -> None:
    assert parse_json(json.dumps(value)) == value


def test_ids_past_bigint_name_nothing() -> None:
    assert path_id(str(INT64_MAX), "campaign") == INT64_MAX
    with pytest.raises(NotFound):
        path_id(str(INT64_MAX + 1), "campaign")


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1899, 12, 31, tzinfo=UTC),
        datetime(3000, 1, 1, tzinfo=UTC),
    ],
)
def test_instants_outside_the_stored_years_are_refused(moment: datetime) -> None:
    with pytest.raises(ValidationError) as caught:
        check_instant(moment, "starts_at")
    assert caught.value.field == "starts_at"


def test_instants_inside_pass() -> None:
    moment = datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert check_instant(moment, "x") is moment
