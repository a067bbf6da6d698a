"""The FreeSWITCH event-socket adapter against a fake FreeSWITCH: what the engine hears for
each kind of call, the commands FreeSWITCH receives, and what happens when it goes away."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from dialer.config import Secret
from dialer.gateway import (
    AgentLeg,
    Answered,
    Busy,
    Failed,
    GatewayError,
    Hangup,
    NoAnswer,
    OriginateRequest,
)
from dialer.telephony.esl import EslGateway, agent_uuid
from tests.fakes.contract import LiveHarness, check_contract, new_call_id
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS, esl_gateway
from tests.fakes.scenarios import number


async def dial(h: LiveHarness, suffix: str, **fields: Any) -> str:
    values: dict[str, Any] = {
        "call_id": new_call_id(),
        "phone_e164": number(suffix),
        "caller_id": "+15550009999",
        "ring_timeout_s": 15.0,
        "variables": (("attempt_id", "41"), ("campaign id", "7, east")),
        **fields,
    }
    await h.gateway.originate(OriginateRequest(**values), h.log)
    return str(values["call_id"])


def commands(fake: FakeFreeSwitch, prefix: str) -> list[tuple[str, dict[str, str]]]:
    return [(line, headers) for line, headers in fake.requests if line.startswith(prefix)]


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


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("0002", ["Ringing", "Answered:machine"]),
        ("0006", ["Ringing", "Answered:human"]),  # mod_amd NOT_SURE counts as human
        ("0017", ["Busy"]),
        ("0019", ["Ringing", "NoAnswer"]),
        ("0034", ["Failed:congestion"]),
        ("0001", ["Failed:unallocated"]),
        ("0021", ["Ringing", "Failed:rejected"]),
        ("0005", ["Ringing", "NoAnswer"]),  # picked up, gone before AMD could tell
    ],
)
async def test_each_kind_of_call_is_reported_as_the_engine_expects(
    esl: LiveHarness, suffix: str, expected: list[str]
) -> None:
    call_id = await dial(esl, suffix)
    final = {"Answered": Answered, "Busy": Busy, "NoAnswer": NoAnswer, "Failed": Failed}
    last = final[expected[-1].split(":")[0]]
    await esl.until(lambda: any(isinstance(e, last) for e in esl.log.of(call_id)))
    got = [
        f"Answered:{e.kind}"
        if isinstance(e, Answered)
        else f"Failed:{e.reason}"
        if isinstance(e, Failed)
        else type(e).__name__
        for e in esl.log.of(call_id)
    ]
    assert got == expected
    await esl.gateway.hangup(call_id)
    await esl.ended(call_id)
    check_contract(esl.log.of(call_id))


async def test_a_job_that_fails_before_any_channel_is_reported(freeswitch: FakeFreeSwitch) -> None:
    from dialer.telephony.dialstrings import SwitchStrings

    strings = SwitchStrings("bogus/{number}", "user/{endpoint}", "dialer/safe-harbor.wav")
    async with esl_gateway(freeswitch, strings=strings) as gw:
        h = LiveHarness(gw, HARNESS_NUMBERS)
        call_id = await dial(h, "0000")
        final = await h.ended(call_id)
    assert isinstance(final, Failed) and final.reason == "chan_not_implemented"


async def test_caller_who_hangs_up_waiting_for_an_agent(esl: LiveHarness) -> None:
    call_id = await dial(esl, "0003")
    final = await esl.ended(call_id)
    assert esl.log.kinds(call_id) == ["Ringing", "Answered", "Hangup"]
    assert isinstance(final, Hangup) and (final.by, final.cause) == ("callee", "normal")


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


async def test_callee_hanging_up_releases_the_agent_leg(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await esl.answered_human()
    await esl.gateway.bridge(call_id, AgentLeg(8))  # no endpoint: the template names it
    assert "}user/agent8 &park()" in commands(freeswitch, "bgapi originate")[-1][0]
    freeswitch.hangup_far(call_id)
    final = await esl.ended(call_id)
    assert isinstance(final, Hangup) and (final.by, final.cause) == ("callee", "normal")
    await freeswitch.until(lambda: not freeswitch.legs)


async def test_agent_phone_that_does_not_answer_fails_the_bridge_only(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await esl.answered_human()
    with pytest.raises(GatewayError, match="did not answer"):
        await esl.gateway.bridge(call_id, AgentLeg(4, "user/agent-noanswer"))
    assert esl.log.final(call_id) is None and call_id in freeswitch.legs
    await esl.gateway.hangup(call_id)
    assert isinstance(await esl.ended(call_id), Hangup)


# -- messages ----------------------------------------------------------------------------------
async def test_text_message_plays_the_configured_recording(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await esl.answered_human()
    assert await esl.gateway.play(call_id, "Sorry we missed you, this is Acme") is True
    assert freeswitch.played == [(call_id, "dialer/safe-harbor.wav")]
    assert commands(freeswitch, "api uuid_broadcast") == [
        (f"api uuid_broadcast {call_id} dialer/safe-harbor.wav aleg", {})
    ]


async def test_missing_recording_fails_the_playback_with_a_warning(
    esl: LiveHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """The playback application answers FILE NOT FOUND (mod_dptools playback_function):
    the message was not played, and the engine must know."""
    call_id = await esl.answered_human()
    with caplog.at_level(logging.WARNING), pytest.raises(GatewayError, match="FILE NOT FOUND"):
        await esl.gateway.play(call_id, "/srv/sounds/not-recorded.wav")
    assert "FILE NOT FOUND" in caplog.text


async def test_callee_hanging_up_during_the_message(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    call_id = await esl.answered_human()
    freeswitch.play_s = 1e6
    task = asyncio.ensure_future(esl.gateway.play(call_id, "dialer/safe-harbor.wav"))
    await freeswitch.until(lambda: bool(freeswitch.played))
    freeswitch.hangup_far(call_id)
    assert await task is False
    final = await esl.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "callee"


# -- the switch goes away ----------------------------------------------------------------------
async def test_freeswitch_restarting_mid_call_ends_calls_it_lost(
    esl: LiveHarness, freeswitch: FakeFreeSwitch
) -> None:
    talking = await esl.answered_human()
    ringing = await dial(esl, "0019", ring_timeout_s=600.0)
    await esl.until(lambda: bool(esl.log.of(ringing)))
    await freeswitch.restart()
    await esl.until(lambda: bool(esl.log.final(talking) and esl.log.final(ringing)))
    lost = esl.log.final(talking)
    assert isinstance(lost, Hangup) and (lost.by, lost.cause) == ("network", "lost")
    assert isinstance(esl.log.final(ringing), Failed)
    assert esl.log.final(ringing).reason == "lost"  # type: ignore[union-attr]
    await esl.until(gateway(esl).link.ready.is_set)
    assert freeswitch.connections == 2
    again = await dial(esl, "0000")
    await esl.until(lambda: esl.log.answer(again) is not None)


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


async def test_outage_is_logged_once_and_calls_wait_for_the_switch(
    esl: LiveHarness, freeswitch: FakeFreeSwitch, caplog: pytest.LogCaptureFixture
) -> None:
    link = gateway(esl).link
    with caplog.at_level(logging.INFO, logger="dialer.telephony.esl"):
        await freeswitch.stop()
        await esl.until(lambda: link.backoff.attempts >= 4)
        with pytest.raises(GatewayError, match="reconnecting"):
            await dial(esl, "0000")
        await freeswitch.start()
        await esl.until(link.ready.is_set)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("lost the FreeSWITCH" in m or "unreachable" in m for m in messages) == 1
    assert sum("connected to FreeSWITCH" in m for m in messages) == 1


async def test_wrong_password_is_reported_once_and_never_logged(
    freeswitch: FakeFreeSwitch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = Secret("not-the-password")
    with caplog.at_level(logging.DEBUG), pytest.raises(GatewayError, match="not reachable"):
        async with esl_gateway(freeswitch, password=wrong, connect_timeout_s=0.3):
            pass
    rejected = [r for r in caplog.records if "rejected the event socket password" in r.getMessage()]
    assert len(rejected) == 1 and "DIALER_ESL_PASSWORD" in rejected[0].getMessage()
    assert "not-the-password" not in caplog.text and freeswitch.password not in caplog.text


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
