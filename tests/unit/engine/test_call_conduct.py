"""Recording notice and voicemail drop where the rules of the callee's place say so: the
rule packs' conduct tables, the per-dial decision, and the call flow that follows it."""

from __future__ import annotations

import pytest

from dialer.compliance import PackError, RuleBook, load_rulebook, parse_pack
from dialer.engine.conduct import RECORDING_NOTICE, call_conduct
from dialer.engine.model import Lead
from tests.unit.engine.test_callflow import Harness, campaign


def lead(region: str, sub: str | None) -> Lead:
    return Lead(1, "+14155550001", region, sub, None, ("America/Los_Angeles",), "new", 0, None)


@pytest.mark.parametrize(
    ("region", "sub", "fields", "notice", "barred"),
    [
        ("US", "CA", {"record": "connected"}, "us-ca.recording-consent", None),
        ("US", "FL", {"record": "all"}, "us-fl.recording-consent", None),
        ("US", "WA", {"record": "connected"}, "us-wa.recording-consent", None),
        ("US", "PA", {"record": "connected"}, "us-pa.recording-consent", None),
        ("US", "NY", {"record": "connected"}, None, None),  # one-party consent: no notice
        ("US", "CA", {"record": "off"}, None, None),  # nothing recorded: nothing to announce
        ("US", "NY", {"record": "connected", "recording_consent": "always"}, "campaign", None),
        ("GB", None, {"record": "connected"}, None, None),
        ("US", "NY", {"voicemail_message": "sound:x"}, None, "us.voicemail-drop"),
        ("US", "NY", {"voicemail_message": "sound:x", "purpose": "survey"}, None, None),
        ("GB", None, {"voicemail_message": "sound:x"}, None, None),
        ("US", "NY", {}, None, None),  # no voicemail message: nothing to bar
    ],
)
def test_the_rules_of_the_callees_place_decide_notice_and_drop(
    region: str, sub: str | None, fields: dict[str, str], notice: str | None, barred: str | None
) -> None:
    got = call_conduct(load_rulebook(), campaign(**fields), lead(region, sub))
    assert got == (notice, barred)


def test_conduct_tables_cite_their_source() -> None:
    book = load_rulebook()
    for pack in book.packs:
        for table in (pack.recording_consent, pack.voicemail_drop):
            if table is not None:
                assert table.source and table.confidence, pack.id
    described = book.pack("us-ca").describe()  # type: ignore[union-attr]
    assert described["recording_consent"]["all_party"] is True
    assert "632" in described["recording_consent"]["source"]


def test_a_bad_conduct_table_names_the_file_and_field() -> None:
    text = """
id = "xx"
name = "x"
country = "US"
subdivision = "XX"
purposes = ["survey"]
[voicemail_drop]
forbidden_purposes = ["robocalls"]
source = "s"
confidence = "verified"
"""
    with pytest.raises(PackError, match=r"xx\.toml: voicemail_drop.*forbidden_purposes"):
        parse_pack("xx.toml", text)
    bare = text.split("[voicemail_drop]")[0]
    with pytest.raises(PackError, match="at least one rule"):
        parse_pack("xx.toml", bare)
    assert RuleBook  # the book loads packs with only a conduct table (us-ca, us-pa)


async def test_the_recording_notice_plays_before_the_agent_is_bridged() -> None:
    h = Harness(campaign(record="connected"), agents=1)
    call = h.dial(notice="us-ca.recording-consent")
    h.answer(call)
    await h.timer.advance(0)
    assert h.gateway.played[0][1] == RECORDING_NOTICE and not h.gateway.bridged
    await h.timer.advance(4)  # the notice has played
    assert h.gateway.bridged == [("c1", 1)] and call.state == "connected"
    h.hangup(call)
    assert h.records[-1][0].recording_notice == "us-ca.recording-consent"


async def test_the_campaigns_own_announcement_is_played() -> None:
    h = Harness(campaign(record="all", recording_announcement="sound:acme/recorded"), agents=1)
    call = h.dial(notice="campaign")
    h.answer(call)
    await h.timer.advance(0)
    await h.timer.advance(4)
    assert h.gateway.played[0][1] == "sound:acme/recorded" and h.gateway.bridged


async def test_a_callee_who_hangs_up_during_the_notice_never_reaches_the_agent() -> None:
    h = Harness(campaign(record="connected"), agents=1)
    call = h.dial(notice="us-ca.recording-consent")
    h.answer(call)
    await h.timer.advance(1)
    h.hangup(call)
    await h.timer.advance(5)
    assert not h.gateway.bridged
    assert h.records[-1][0].recording_notice is None


async def test_no_notice_means_an_immediate_bridge() -> None:
    h = Harness(campaign(record="connected"), agents=1)
    call = h.dial()
    h.answer(call)
    await h.timer.advance(0)
    assert h.gateway.bridged and not h.gateway.played


async def test_a_barred_voicemail_drop_hangs_up_and_says_why() -> None:
    h = Harness(campaign(voicemail_message="sound:dialer/offer"), agents=1)
    call = h.dial(voicemail_barred="us.voicemail-drop")
    h.answer(call, "machine")
    await h.timer.advance(0)
    assert h.outcome() == "machine" and not h.gateway.played
    assert h.gateway.hung_up == ["c1"]
    assert h.records[-1][0].hangup_cause == "voicemail_barred: us.voicemail-drop"


async def test_an_allowed_voicemail_drop_plays_the_message() -> None:
    h = Harness(campaign(voicemail_message="sound:dialer/offer"), agents=1)
    call = h.dial()
    h.answer(call, "machine")
    await h.timer.advance(0)
    await h.timer.advance(4)
    assert h.gateway.played[0][1] == "sound:dialer/offer"
    assert h.records[-1][0].hangup_cause == "voicemail_left"
