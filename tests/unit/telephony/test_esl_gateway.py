"""The FreeSWITCH event-socket adapter against a fake FreeSWITCH: the commands only FreeSWITCH
receives and what only it answers (what both switches do alike is in ``test_switch_calls``)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dialer.gateway import AgentLeg, Failed, GatewayError, Hangup
from dialer.telephony.esl import EslGateway, agent_uuid
from tests.fakes.contract import LiveHarness
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS, esl_gateway
from tests.unit.telephony.flow_support import commands
from tests.unit.telephony.flow_support import dial as shared_dial


async def dial(h: LiveHarness, suffix: str, **fields: Any) -> str:
    """A call whose campaign id needs escaping in a dial string."""
    return await shared_dial(h, suffix, campaign="7, east", **fields)


def gateway(h: LiveHarness) -> EslGateway:
    assert isinstance(h.gateway, EslGateway)
    return h.gateway


# -- what the engine hears ---------------------------------------------------------------------
async def test_answered_human_passes_amd_and_carries_our_ids(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await dial(esl, "0000", ring_timeout_s=15.5)
    await esl.until(lambda: esl.log.answer(call_id) is not None)
    assert esl.log.kinds(call_id) == ["Ringing", "Answered"]
    assert esl.log.answer(call_id).kind == "human"  # type: ignore[union-attr]
    ((line, headers),) = commands(freeswitch, "bgapi originate")
    assert headers["Job-UUID"]
    assert line == (
        "bgapi originate {origination_uuid=" + call_id + ","
        "origination_caller_id_number=+15550009999,originate_timeout=16,"
        "ignore_early_media=true,dialer_app=dialer,dialer_call_id=" + call_id + ","
        "dialer_amd=1,dialer_attempt_id=41,dialer_campaign_id='7\\, east'}"
        "sofia/gateway/trunk/+15550100000 dialer_amd XML dialer"
    )
    assert freeswitch.sent[-1][1]["variable_dialer_campaign_id"] == "7, east"


async def test_without_amd_the_call_parks_and_is_human_at_once(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await dial(esl, "0002", amd=False)  # a machine, but nobody asked
    await esl.until(lambda: esl.log.answer(call_id) is not None)
    assert esl.log.answer(call_id).kind == "human"  # type: ignore[union-attr]
    assert commands(freeswitch, "bgapi originate")[0][0].endswith(" &park()")


async def test_a_job_that_fails_before_any_channel_is_reported(freeswitch: FakeFreeSwitch) -> None:
    from dialer.telephony.dialstrings import SwitchStrings

    strings = SwitchStrings("bogus/{number}", "user/{endpoint}", "dialer/safe-harbor.wav")
    async with esl_gateway(freeswitch, strings=strings) as gw:
        h = LiveHarness(gw, HARNESS_NUMBERS)
        call_id = await dial(h, "0000")
        final = await h.ended(call_id)
    assert isinstance(final, Failed) and final.reason == "chan_not_implemented"


async def test_call_ids_longer_than_a_freeswitch_uuid_are_refused(esl: LiveHarness) -> None:
    with pytest.raises(GatewayError, match="36"):
        await dial(esl, "0000", call_id="x" * 37)


# -- agents ------------------------------------------------------------------------------------
async def test_bridge_calls_the_agent_and_joins_the_legs(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await esl.answered_human()
    await esl.gateway.bridge(call_id, AgentLeg(3, "user/1003"))
    leg = agent_uuid(call_id)
    agent_line = commands(freeswitch, "bgapi originate")[-1][0]
    assert f"origination_uuid={leg}" in agent_line and agent_line.endswith("}user/1003 &park()")
    assert commands(freeswitch, "api uuid_bridge") == [(f"api uuid_bridge {call_id} {leg}", {})]
    assert freeswitch.legs[call_id].bridge == leg
    freeswitch.hangup_far(leg)  # the agent hangs up
    final = await esl.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "agent"
    await freeswitch.until(lambda: not freeswitch.legs)


# -- the switch goes away ----------------------------------------------------------------------
async def test_answer_and_amd_missed_during_a_network_blip_are_caught_up(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    freeswitch.refuse = True
    call_id = await dial(esl, "0002")  # a machine
    await gateway(esl).link.drop()
    leg = freeswitch.legs[call_id]
    await freeswitch.until(lambda: "amd_result" in leg.variables)  # decided while away
    assert esl.log.answer(call_id) is None
    freeswitch.refuse = False
    await esl.until(lambda: esl.log.answer(call_id) is not None)
    assert esl.log.kinds(call_id) == ["Answered"]  # the ringing happened unseen
    assert esl.log.answer(call_id).kind == "machine"  # type: ignore[union-attr]


async def test_reconcile_hangs_up_only_our_stray_channels(freeswitch: FakeFreeSwitch) -> None:
    freeswitch.add_stray("5b1f0a6e-0000-4000-8000-000000000001", app_var="dialer")
    freeswitch.add_stray("5b1f0a6e-0000-4000-8000-000000000002", app_var="crm")
    async with esl_gateway(freeswitch):
        await freeswitch.until(
            lambda: set(freeswitch.legs) == {"5b1f0a6e-0000-4000-8000-000000000002"}
        )


async def test_acl_rejection_is_reported(
    freeswitch: FakeFreeSwitch, caplog: pytest.LogCaptureFixture
) -> None:
    freeswitch.refuse = True
    with caplog.at_level(logging.ERROR), pytest.raises(GatewayError):
        async with esl_gateway(freeswitch, connect_timeout_s=0.3):
            pass
    assert "Access Denied" in caplog.text


async def test_hangup_before_freeswitch_created_the_channel_still_ends_it(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    freeswitch.job_delay_s = 0.1  # the originate job has not started yet
    call_id = await dial(esl, "0019")
    await esl.gateway.hangup(call_id)
    assert commands(freeswitch, "api uuid_kill")  # answered "-ERR No such channel!"
    final = await esl.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "dialer"
    await freeswitch.until(lambda: not freeswitch.legs)
