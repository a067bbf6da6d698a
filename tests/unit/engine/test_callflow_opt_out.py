"""The opt-out on the abandon message, in virtual time: the key counts from the message's
start, the prompt follows the message, the confirmation follows the key, and only the
campaign's key on a call that offers the opt-out does anything."""

from __future__ import annotations

from typing import Any

import pytest

from dialer import metrics
from dialer.compliance import load_rulebook
from dialer.engine.model import Lead
from dialer.engine.optout import OPT_OUT_CONFIRMED, OPT_OUT_PROMPT, opt_out_offers
from dialer.gateway import Dtmf
from tests.unit.engine.test_callflow import SAFE_HARBOR, Harness, campaign


def _abandoned(h: Harness, offers: dict[str, str]) -> Any:
    call = h.dial()
    call.opt_out = offers
    return call


async def _answer_and_abandon(h: Harness, call: Any) -> None:
    await h.timer.advance(5)
    h.answer(call)
    await h.timer.advance(2.0)  # no agent: the safe-harbor message starts (4 s long here)
    assert call.state == "abandoning"


def _heard(h: Harness) -> list[str]:
    return [m for _, m, _ in h.gateway.played]


async def test_a_key_during_the_message_opts_out_and_is_confirmed() -> None:
    h = Harness(campaign(id=71))
    call = _abandoned(h, {"abandon": "us.opt-out.abandoned"})
    before = metrics.OPT_OUTS.labels("71")._value.get()
    await _answer_and_abandon(h, call)
    await h.timer.advance(1.0)
    h.flow.on_event(Dtmf(call.call_id, h.timer.now(), "9"))
    assert call.opted_out and call.state == "abandoning"  # keys are no state-machine event
    await h.timer.advance(20)
    assert _heard(h) == [SAFE_HARBOR, OPT_OUT_CONFIRMED]  # no prompt once the key came
    assert h.outcome() == "abandoned" and h.gateway.hung_up == ["c1"]
    assert metrics.OPT_OUTS.labels("71")._value.get() - before == 1


async def test_the_prompt_follows_the_message_and_the_key_is_awaited() -> None:
    h = Harness(campaign(opt_out_prompt="Press 9 to stop these calls."))
    call = _abandoned(h, {"abandon": "campaign"})
    await _answer_and_abandon(h, call)
    await h.timer.advance(4.0 + 4.0 + 1.0)  # message, prompt, then a second of waiting
    assert _heard(h) == [SAFE_HARBOR, "Press 9 to stop these calls."]
    assert not h.records  # still waiting for the key
    h.flow.on_event(Dtmf(call.call_id, h.timer.now(), "9"))
    await h.timer.advance(10)
    assert _heard(h)[-1] == OPT_OUT_CONFIRMED and call.opted_out


@pytest.mark.parametrize(
    ("offers", "key", "heard"),
    [
        ({}, "9", [SAFE_HARBOR]),  # not offered: no prompt, the key means nothing
        ({"abandon": "campaign"}, "5", [SAFE_HARBOR, OPT_OUT_PROMPT]),  # another key
        ({"agentless": "campaign"}, "9", [SAFE_HARBOR]),  # offered on another message
    ],
)
async def test_other_keys_and_calls_without_the_offer_change_nothing(
    offers: dict[str, str], key: str, heard: list[str]
) -> None:
    h = Harness(campaign())
    call = _abandoned(h, offers)
    await _answer_and_abandon(h, call)
    h.flow.on_event(Dtmf(call.call_id, h.timer.now(), key))
    await h.timer.advance(30)
    assert _heard(h) == heard and not call.opted_out
    assert h.outcome() == "abandoned"


async def test_a_callee_who_hangs_up_during_the_prompt_ends_the_call() -> None:
    h = Harness(campaign())
    call = _abandoned(h, {"abandon": "campaign"})
    await _answer_and_abandon(h, call)
    await h.timer.advance(5.0)  # the prompt is playing
    h.hangup(call)
    await h.timer.advance(20)
    assert h.outcome() == "abandoned" and not call.opted_out


@pytest.mark.parametrize(
    ("region", "purpose", "mode", "expected"),
    [
        ("US", "telemarketing", "where_required", {"agentless", "abandon"}),
        ("US", "survey", "where_required", {"agentless"}),
        ("GB", "telemarketing", "where_required", set()),
        ("GB", "telemarketing", "always", {"agentless", "abandon"}),
    ],
)
def test_offers_follow_the_rules_and_the_campaign(
    region: str, purpose: str, mode: str, expected: set[str]
) -> None:
    lead = Lead(1, "+15555550000", region, None, None, (), "new", 0, None)
    offers = opt_out_offers(load_rulebook(), campaign(purpose=purpose, opt_out=mode), lead)
    assert set(offers) == expected
    # US offers name the rule that requires them; elsewhere the campaign asked for it.
    assert all((v == "campaign") == (region == "GB") for v in offers.values())
