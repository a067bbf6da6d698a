"""The accelerator (rphonenumbers) gives what phonenumbers gives, on every field a lead keeps.

Differential: generated numbers of every rule-pack country (and, shallower, every region
phonenumbers supports), written every way people write them, with extensions, too short, too
long, garbage. Skipped only when rphonenumbers is not installed (``pip install 'dialer[fast]'``;
the dev extra and CI install it).
"""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.errors import UsageError
from dialer.leads import numbers, parity

rphonenumbers = pytest.importorskip(
    "rphonenumbers", reason="rphonenumbers (dialer[fast]) not installed: nothing to compare"
)


def test_the_installed_pair_was_verified() -> None:
    pair = numbers.version_pair(rphonenumbers)
    assert pair in numbers.VERIFIED, (
        f"rphonenumbers metadata {pair[0]} with phonenumbers {pair[1]} is not in "
        "numbers.VERIFIED: run this test's comparisons and add the pair with the country "
        "codes where they disagree"
    )
    assert numbers.choose(numbers.AUTO).name == numbers.RPHONENUMBERS


def test_rule_pack_countries_parse_the_same() -> None:
    cases = list(parity.generate(12_000, seed=1))
    assert {r for _, r in cases} >= set(parity.pack_regions())
    assert parity.compare(cases) == []


def test_every_supported_region_parses_the_same() -> None:
    regions = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))
    cases = list(parity.generate(12_000, seed=2, regions=regions))
    assert parity.compare(cases) == []


def test_the_fallback_covers_every_country_where_the_libraries_disagree() -> None:
    regions = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))
    cases = list(parity.generate(40_000, seed=3, regions=regions))
    codes = numbers.VERIFIED[numbers.version_pair(rphonenumbers)]
    assert set(parity.raw_disagreements(cases)) <= codes


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="0123456789 +-().#xet;=/", min_size=0, max_size=24),
    region=st.sampled_from([None, "US", "GB", "IN", "FR", "AU", "CA", "KE", "TZ", "BD", "ZW"]),
)
def test_any_text_gives_the_same_outcome(text: str, region: str | None) -> None:
    assert parity.compare([(text, region)]) == []


def test_a_required_accelerator_that_is_missing_is_a_usage_error(monkeypatch) -> None:
    monkeypatch.setattr(numbers, "_import_fast", lambda: None)
    assert numbers.choose(numbers.AUTO).name == numbers.PHONENUMBERS
    with pytest.raises(UsageError, match="pip install 'dialer\\[fast\\]'"):
        numbers.choose(numbers.RPHONENUMBERS)


def test_an_unverified_pair_is_not_used_by_auto(monkeypatch) -> None:
    monkeypatch.setattr(numbers, "VERIFIED", {})
    assert numbers.choose(numbers.AUTO).name == numbers.PHONENUMBERS
    assert numbers.choose(numbers.RPHONENUMBERS).name == numbers.RPHONENUMBERS
