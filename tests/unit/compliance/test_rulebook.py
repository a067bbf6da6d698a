"""Rule packs: validation at load (errors name the file and field) and layering."""

from __future__ import annotations

import pytest

from dialer.compliance import PURPOSES, PackError, RuleBook, load_rulebook, parse_pack

DEFAULT = """
id = "default"
name = "test default"
country = "*"
purposes = ["telemarketing", "survey", "debt_collection", "informational"]
[[rules]]
id = "default.hours"
kind = "window"
daily = [["09:00", "20:00"]]
confidence = "default"
source = "test"
"""

PACK = """
id = "xx"
name = "test pack"
country = "XX"
purposes = ["telemarketing"]
[[rules]]
id = "xx.hours"
kind = "window"
confidence = "verified"
source = "a statute"
"""


def _pack_with(rule_lines: str, head: str = PACK) -> str:
    return head + rule_lines


@pytest.mark.parametrize(
    ("filename", "text", "message"),
    [
        ("xx.toml", "id = ", "xx.toml: not valid TOML"),
        ("yy.toml", _pack_with('daily = [["09:00", "20:00"]]'), "yy.toml.id: 'xx' must match"),
        (
            "xx.toml",
            _pack_with('daily = [["09:00", "25:00"]]'),
            "xx.toml: rules[0].daily[0]: bad time '25:00'",
        ),
        (
            "xx.toml",
            _pack_with('weekly = { monday = [["09:00", "20:00"]] }'),
            "xx.toml: rules[0].weekly: unknown day 'monday'",
        ),
        ("xx.toml", _pack_with(""), "xx.toml: rules[0]: give exactly one of 'weekly' or 'daily'"),
        (
            "xx.toml",
            _pack_with('daily = [["09:00", "20:00"]]\nhours = 3'),
            "xx.toml: rules[0]: unknown field(s) hours",
        ),
        (
            "xx.toml",
            PACK.replace('source = "a statute"', 'source = " "') + 'daily = [["09:00", "20:00"]]',
            "xx.toml: rules[0].source: every rule needs a source citation",
        ),
        (
            "xx.toml",
            PACK.replace('id = "xx.hours"', 'id = "yy.hours"') + 'daily = [["09:00", "20:00"]]',
            "xx.toml: rules[0].id: 'yy.hours' must look like 'xx.<name>'",
        ),
        (
            "xx.toml",
            PACK.replace('kind = "window"', 'kind = "curfew"'),
            "xx.toml: rules[0].kind: 'curfew' is not one of",
        ),
        (
            "xx.toml",
            PACK.replace('confidence = "verified"', 'confidence = "sure"')
            + 'daily = [["09:00", "20:00"]]',
            "xx.toml: rules[0].confidence: 'sure' is not one of",
        ),
        (
            "xx.toml",
            _pack_with('daily = [["09:00", "20:00"]]\npurposes = ["survey"]'),
            "xx.toml: rules[0].purposes: a rule can only narrow the pack's purposes",
        ),
        (
            "xx.toml",
            _pack_with('daily = [["09:00", "20:00"]]\nclock = "Mars/Olympus"'),
            "xx.toml: rules[0].clock: unknown IANA zone 'Mars/Olympus'",
        ),
        (
            "xx.toml",
            PACK.replace('kind = "window"', 'kind = "holidays"')
            + 'country = "US"\nsubdivision = "ZZ"',
            "xx.toml: rules[0].subdivision: subdivision 'ZZ' is not known for US",
        ),
        (
            "xx.toml",
            PACK.replace('kind = "window"', 'kind = "cap"')
            + 'max_calls = 0\nper = "24h"\nscope = "all"',
            "xx.toml: rules[0].max_calls: must be at least 1",
        ),
        (
            "xx.toml",
            PACK.replace('kind = "window"', 'kind = "cap"')
            + 'max_calls = 3\nper = "1 day"\nscope = "all"',
            "xx.toml: rules[0].per: bad duration '1 day'",
        ),
        (
            "xx.toml",
            PACK.replace('kind = "window"', 'kind = "cooldown"')
            + 'after = "refusal"\nduration = "7d"\nscope = "all"',
            "xx.toml: rules[0].after: 'refusal' is not one of conversation, abandoned",
        ),
        (
            "xx.toml",
            PACK.replace('country = "XX"', 'country = "Xx"') + 'daily = [["09:00", "20:00"]]',
            "xx.toml.country: 'Xx' is not an ISO 3166-1 alpha-2 code",
        ),
        (
            "xx.toml",
            PACK.replace('purposes = ["telemarketing"]', 'purposes = ["sales"]'),
            "xx.toml.purposes: bad entry 'sales'",
        ),
    ],
)
def test_invalid_packs_are_refused_with_file_and_field(
    filename: str, text: str, message: str
) -> None:
    with pytest.raises(PackError) as info:
        parse_pack(filename, text)
    assert message in str(info.value)


def test_book_level_checks() -> None:
    good = PACK + 'daily = [["09:00", "20:00"]]'
    with pytest.raises(PackError, match="no global default pack"):
        RuleBook.from_texts({"xx.toml": good})
    twin = good.replace('id = "xx"', 'id = "zz"').replace('"xx.hours"', '"zz.hours"')
    with pytest.raises(PackError, match=r"zz\.toml: jurisdiction XX also in xx\.toml"):
        RuleBook.from_texts({"default.toml": DEFAULT, "xx.toml": good, "zz.toml": twin})
    long_cap = PACK.replace('kind = "window"', 'kind = "cap"') + (
        'max_calls = 3\nper = "60d"\nscope = "all"'
    )
    with pytest.raises(PackError, match="looks back 60d, more than MAX_LOOKBACK"):
        RuleBook.from_texts({"default.toml": DEFAULT, "xx.toml": long_cap})


def test_layering_country_plus_subdivisions() -> None:
    book = load_rulebook()
    ids = [p.id for p in book.packs_for("US", ("FL",), "telemarketing")]
    assert ids == ["us", "us-fl"]
    assert [p.id for p in book.packs_for("US", ("FL", "NY", "TX"), "telemarketing")] == [
        "us",
        "us-fl",
        "us-tx",
    ]
    assert [p.id for p in book.packs_for("US", ("FL",), "survey")] == ["us"]
    assert [p.id for p in book.packs_for("DE", (), "survey")] == ["default"]
    assert [p.id for p in book.packs_for(None, (), "survey")] == ["default"]
    assert [p.id for p in book.packs_for("PR", (), "telemarketing")] == ["us"]
    assert book.pack("US-FL") is book.pack("us-fl")


@pytest.mark.parametrize(
    "region", ["US", "CA", "FR", "AU", "GB", "IN", "BD", "KE", "TZ", "DE", None]
)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_no_lead_is_ever_dialed_without_a_time_rule(region: str | None, purpose: str) -> None:
    policy = load_rulebook().policy(region, (), purpose)
    assert policy.time_rules, f"{region}/{purpose} has no calling-hours rule"


def test_shipped_packs_cite_a_source_for_every_rule() -> None:
    book = load_rulebook()
    expected = {"default", "us", "us-fl", "us-ok", "us-md", "us-wa", "us-tx", "us-la", "us-al",
                "us-ms", "us-ut", "ca", "fr", "au", "gb", "in", "bd", "ke", "tz"}  # fmt: skip
    assert expected <= {p.id for p in book.packs}
    for pack in book.packs:
        for rule in pack.rules:
            assert rule.source.strip(), rule.id
            if rule.confidence == "default":
                assert "not statutory" in rule.source, rule.id
    for cc in ("bd", "ke", "tz"):
        assert "not statutory" in (book.pack(cc) or pack).notes


def test_describe_is_json_ready() -> None:
    described = load_rulebook().describe()
    fr = next(p for p in described if p["id"] == "fr")
    lunch = next(r for r in fr["rules"] if r["id"] == "fr.lunch")
    assert lunch["allowed"]["mon"] == [["00:00", "13:00"], ["14:00", "24:00"]]
    assert lunch["confidence"] == "verified"
