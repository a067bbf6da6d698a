"""How erasure recognises a person in stored text: the number's forms, field values, LIKE
patterns that match literally, and a JSON scrub that removes every mention and nothing else."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.privacy import traces


@pytest.mark.parametrize(
    ("e164", "forms"),
    [
        ("+14155550199", ["+14155550199", "14155550199", "4155550199"]),
        ("+919876543210", ["+919876543210", "919876543210", "9876543210"]),
        ("+442079460958", ["+442079460958", "442079460958", "2079460958"]),
        ("+254712345678", ["+254712345678", "254712345678", "712345678"]),
    ],
)
def test_number_forms(e164: str, forms: list[str]) -> None:
    assert traces.number_forms(e164) == forms


def test_field_values_are_nested_and_short_ones_ignored() -> None:
    fields = {"name": "Ann Lee", "ok": "yes", "n": 12, "policy": {"no": "PX-1"}, "ids": [12345]}
    assert list(traces.field_values(fields)) == ["Ann Lee", "PX-1", "12345"]
    assert list(traces.field_values({"flag": True})) == []


def test_like_patterns_escape_wildcards() -> None:
    assert traces.like_patterns(["50%_off\\"]) == ["%50\\%\\_off\\\\%"]


def test_neutral_event_keeps_only_ids_and_figures() -> None:
    payload = {"lead_id": 1, "phone": "+14155550199", "fields": {"name": "A"}, "talk_s": 3.0}
    assert traces.neutral_event(payload) == {"lead_id": 1, "talk_s": 3.0, "erased": True}
    assert traces.neutral_event("text") == {"erased": True}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


@given(_JSON, st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3))
def test_scrub_removes_every_mention_and_keeps_the_rest(doc: Any, needles: list[str]) -> None:
    out = traces.scrub(doc, needles)
    assert _shape(out) == _shape(doc)
    for before, after in zip(_strings(doc), _strings(out), strict=True):
        hit = any(n.lower() in before.lower() for n in needles)
        assert after == (traces.ERASED if hit else before)
    for text in _strings(out):
        assert text == traces.ERASED or not any(n.lower() in text.lower() for n in needles)


@given(st.text(max_size=30), st.text(max_size=30))
def test_like_patterns_match_exactly_the_texts_containing_the_needle(hay: str, needle: str) -> None:
    (pattern,) = traces.like_patterns([needle])
    regex = "".join(
        ".*" if m.group(0) == "%" else "." if m.group(0) == "_" else re.escape(m.group(0)[-1])
        for m in re.finditer(r"\\.|%|_|[^\\%_]", pattern, flags=re.S)
    )
    assert bool(re.fullmatch(regex, hay, flags=re.S)) == (needle in hay)
