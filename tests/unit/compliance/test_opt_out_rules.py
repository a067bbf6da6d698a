"""In-call opt-out requirements: which places, purposes and message kinds need one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.compliance import (
    PURPOSES,
    PackError,
    Place,
    RuleBook,
    load_rulebook,
    opt_out_required,
    parse_pack,
)
from dialer.compliance.optout import MESSAGE_KINDS

US_CA = Place("US", "CA", ("CA",), ("America/Los_Angeles",))
PR = Place("PR", None, (), ("America/Puerto_Rico",))
GB = Place("GB", None, (), ("Europe/London",))
CA = Place("CA", "ON", ("ON",), ("America/Toronto",))
NOWHERE = Place(None, None, (), ())


@pytest.mark.parametrize(
    ("place", "purpose", "kind", "required", "rule"),
    [
        (US_CA, "telemarketing", "abandon", True, "us.opt-out.abandoned"),
        (US_CA, "telemarketing", "agentless", True, "us.opt-out.prerecorded"),
        (PR, "telemarketing", "agentless", True, "us.opt-out.prerecorded"),
        (US_CA, "informational", "agentless", True, "us.opt-out.exempt-prerecorded"),
        (US_CA, "debt_collection", "agentless", True, "us.opt-out.exempt-prerecorded"),
        (US_CA, "survey", "abandon", False, None),  # (a)(7) is a telemarketing rule
        (US_CA, "telemarketing", "callback", False, None),
        (GB, "telemarketing", "abandon", False, None),  # Ofcom: a number, not a key
        (CA, "telemarketing", "agentless", False, None),
        (NOWHERE, "telemarketing", "abandon", False, None),
    ],
)
def test_required_where_the_packs_say(place, purpose, kind, required, rule):
    needed, reasons = opt_out_required(place, purpose, kind)
    assert needed is required
    assert [r.rule_id for r in reasons] == ([rule] if rule else [])
    for r in reasons:
        assert "CFR" in r.source and r.message


@given(
    region=st.sampled_from(["US", "GB", "CA", "AU", "IN", "FR", "KE", None, "ZZ"]),
    purpose=st.sampled_from(PURPOSES),
    kind=st.sampled_from(MESSAGE_KINDS),
)
def test_every_answer_names_its_rules(region, purpose, kind):
    place = Place(region, None, (), ())
    needed, reasons = opt_out_required(place, purpose, kind)
    assert needed == bool(reasons)
    book = load_rulebook()
    ids = {r.id for p in book.packs if p.covers(region) for r in p.opt_out}
    assert {r.rule_id for r in reasons} <= ids
    # Whatever a pack requires for a purpose is listed for the campaign page too.
    assert {r.rule_id for r in reasons} <= {r.id for r in book.opt_out_anywhere(purpose)}


def test_unknown_message_kind_is_refused():
    with pytest.raises(ValueError, match="message kind"):
        opt_out_required(US_CA, "telemarketing", "fax")


PACK = """
id = "xx"
name = "test pack"
country = "XX"
purposes = ["telemarketing"]
"""


def test_a_pack_may_carry_only_opt_out_tables():
    pack = parse_pack(
        "xx.toml",
        PACK
        + """
[[opt_out]]
id = "xx.opt-out"
title = "t"
message_kinds = ["abandon", "callback"]
confidence = "verified"
source = "a statute"
""",
    )
    default = next(p for p in load_rulebook().packs if p.country == "*")
    book = RuleBook([pack, default])
    place = Place("XX", None, (), ())
    assert book.opt_out(place, "survey", "callback")[0]  # purposes default to all
    assert not book.opt_out(place, "survey", "agentless")[0]
    assert pack.describe()["opt_out"][0]["message_kinds"] == ["abandon", "callback"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('id = "yy.opt-out"\nmessage_kinds = ["abandon"]', "must start with the pack id"),
        ('id = "xx.o"\nmessage_kinds = []', "message_kinds"),
        ('id = "xx.o"\nmessage_kinds = ["sms"]', "message_kinds"),
    ],
)
def test_bad_opt_out_tables_name_the_field(table, message):
    text = PACK + "[[opt_out]]\n" + table + '\ntitle = "t"\nconfidence = "verified"\nsource = "s"\n'
    with pytest.raises(PackError, match=message):
        parse_pack("xx.toml", text)
