"""What both switch adapters do alike, each against its fake switch: the events the engine
hears for each kind of call, agents' legs, messages, and the switch restarting or going
away. The fake Asterisk answers as ARI documents, the fake FreeSWITCH as its event socket
does; what only one switch does is in ``test_ari_gateway`` and ``test_esl_gateway``."""

from __future__ import annotations

import asyncio
import logging

import pytest

from dialer.config import Secret
from dialer.gateway import AgentLeg, Answered, Busy, Failed, GatewayError, Hangup, NoAnswer
from tests.fakes.contract import check_contract
from tests.fakes.gateways import ari_gateway, esl_gateway
from tests.unit.telephony.flow_support import Switch, commands, dial

SAFE_HARBOR = {"ari": "sound:dialer/safe-harbor", "esl": "dialer/safe-harbor.wav"}


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("0002", ["Ringing", "Answered:machine"]),
        ("0006", ["Ringing", "Answered:human"]),  # AMD NOTSURE (mod_amd NOT_SURE): human
        ("0017", ["Busy"]),
        ("0019", ["Ringing", "NoAnswer"]),
        ("0034", ["Failed:congestion"]),
        ("0001", ["Failed:unallocated"]),
        ("0021", ["Ringing", "Failed:rejected"]),
        ("0005", ["Ringing", "NoAnswer"]),  # picked up, gone before AMD could tell
    ],
)
async def test_each_kind_of_call_is_reported_as_the_engine_expects(
    switch: Switch, suffix: str, expected: list[str]
) -> None:
    h = switch.harness
    call_id = await dial(h, suffix)
    final = {"Answered": Answered, "Busy": Busy, "NoAnswer": NoAnswer, "Failed": Failed}
    last = final[expected[-1].split(":")[0]]
    await h.until(lambda: any(isinstance(e, last) for e in h.log.of(call_id)))
    got = [
        f"Answered:{e.kind}"
        if isinstance(e, Answered)
        else f"Failed:{e.reason}"
        if isinstance(e, Failed)
        else type(e).__name__
        for e in h.log.of(call_id)
    ]
    assert got == expected
    await h.gateway.hangup(call_id)
    await h.ended(call_id)
    check_contract(h.log.of(call_id))


async def test_caller_who_hangs_up_waiting_for_an_agent(switch: Switch) -> None:
    h = switch.harness
    call_id = await dial(h, "0003")
    final = await h.ended(call_id)
    assert h.log.kinds(call_id) == ["Ringing", "Answered", "Hangup"]
    assert isinstance(final, Hangup) and (final.by, final.cause) == ("callee", "normal")


# -- agents ------------------------------------------------------------------------------------
async def test_callee_hanging_up_releases_the_agent_leg(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await h.answered_human()
    await h.gateway.bridge(call_id, AgentLeg(8))  # no endpoint: the template names it
    if switch.kind == "ari":
        agent = f"{call_id}-agent"
        [params] = [q for m, p, q, _ in fake.requests if m == "POST" and p.endswith(agent)]
        assert params["endpoint"] == "PJSIP/agent8"
    else:
        assert "}user/agent8 &park()" in commands(fake, "bgapi originate")[-1][0]
    fake.hangup_far(call_id)
    final = await h.ended(call_id)
    assert isinstance(final, Hangup) and (final.by, final.cause) == ("callee", "normal")
    await fake.until(switch.idle)


async def test_agent_phone_that_does_not_answer_fails_the_bridge_only(switch: Switch) -> None:
    h = switch.harness
    call_id = await h.answered_human()
    with pytest.raises(GatewayError, match="did not answer"):
        await h.gateway.bridge(call_id, AgentLeg(4, switch.phone("agent-noanswer")))
    assert h.log.final(call_id) is None and call_id in switch.fake.legs
    await h.gateway.hangup(call_id)
    assert isinstance(await h.ended(call_id), Hangup)


# -- messages ----------------------------------------------------------------------------------
async def test_text_message_plays_the_configured_recording(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await h.answered_human()
    assert await h.gateway.play(call_id, "Sorry we missed you, this is Acme") is True
    assert fake.played == [(call_id, SAFE_HARBOR[switch.kind])]
    if switch.kind == "esl":
        assert commands(fake, "api uuid_broadcast") == [
            (f"api uuid_broadcast {call_id} dialer/safe-harbor.wav aleg", {})
        ]


MISSING = {  # (a recording the switch does not have, the error, what the warning names)
    # PlaybackFinished with state ``failed`` (playbacks.json)
    "ari": ("sound:not-recorded-yet", "not-recorded", "not-recorded-yet"),
    # the playback application answers FILE NOT FOUND (mod_dptools playback_function)
    "esl": ("/srv/sounds/not-recorded.wav", "FILE NOT FOUND", "FILE NOT FOUND"),
}


async def test_missing_recording_fails_the_playback_with_a_warning(
    switch: Switch, caplog: pytest.LogCaptureFixture
) -> None:
    """A playback that did not happen: the engine must know (a required recording notice
    that failed means no recording)."""
    h = switch.harness
    sound, error, logged = MISSING[switch.kind]
    call_id = await h.answered_human()
    with caplog.at_level(logging.WARNING), pytest.raises(GatewayError, match=error):
        await h.gateway.play(call_id, sound)
    assert logged in caplog.text


async def test_callee_hanging_up_during_the_message(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    call_id = await h.answered_human()
    fake.play_s = 1e6
    task = asyncio.ensure_future(h.gateway.play(call_id, SAFE_HARBOR[switch.kind]))
    await fake.until(lambda: bool(fake.played))
    fake.hangup_far(call_id)
    assert await task is False
    final = await h.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "callee"


# -- the switch goes away ----------------------------------------------------------------------
async def test_the_switch_restarting_mid_call_ends_calls_it_lost(switch: Switch) -> None:
    h, fake = switch.harness, switch.fake
    talking = await h.answered_human()
    ringing = await dial(h, "0019", ring_timeout_s=600.0)
    await h.until(lambda: bool(h.log.of(ringing)))
    await fake.restart()
    await h.until(lambda: bool(h.log.final(talking) and h.log.final(ringing)))
    lost = h.log.final(talking)
    assert isinstance(lost, Hangup) and (lost.call_id, lost.by, lost.cause) == (
        talking,
        "network",
        "lost",
    )
    gone = h.log.final(ringing)
    assert isinstance(gone, Failed) and gone.reason == "lost"
    assert fake.connections == 2
    await h.until(h.gateway.link.ready.is_set)  # type: ignore[attr-defined]  # reconciled
    again = await dial(h, "0000")  # dialling works again
    await h.until(lambda: h.log.answer(again) is not None)


OUTAGE_LOGS = {
    "ari": ("dialer.telephony.ari", "lost the ARI connection", "connected to Asterisk ARI"),
    "esl": ("dialer.telephony.esl", "lost the FreeSWITCH", "connected to FreeSWITCH"),
}


async def test_outage_is_logged_once_and_calls_wait_for_the_switch(
    switch: Switch, caplog: pytest.LogCaptureFixture
) -> None:
    h, fake = switch.harness, switch.fake
    link = h.gateway.link  # type: ignore[attr-defined]
    logger, lost, connected = OUTAGE_LOGS[switch.kind]
    with caplog.at_level(logging.INFO, logger=logger):
        await fake.stop()
        await h.until(lambda: link.backoff.attempts >= 4)
        with pytest.raises(GatewayError, match="reconnecting"):
            await dial(h, "0000")
        await fake.start()
        await h.until(link.ready.is_set)
    messages = [r.getMessage() for r in caplog.records]
    assert sum(lost in m or "unreachable" in m for m in messages) == 1
    assert sum(connected in m for m in messages) == 1


REFUSED = {  # what the log says when the switch refuses our password, and what to set
    "ari": ("refused ARI user", "DIALER_ARI_PASSWORD"),
    "esl": ("rejected the event socket password", "DIALER_ESL_PASSWORD"),
}


async def test_wrong_password_is_reported_once_and_never_logged(
    switch: Switch, caplog: pytest.LogCaptureFixture
) -> None:
    fake = switch.fake
    refusal, setting = REFUSED[switch.kind]
    connect = ari_gateway if switch.kind == "ari" else esl_gateway
    wrong = Secret("not-the-password")
    with caplog.at_level(logging.DEBUG), pytest.raises(GatewayError, match="not reachable"):
        async with connect(fake, password=wrong, connect_timeout_s=0.3):
            pass
    refused = [r for r in caplog.records if refusal in r.getMessage()]
    assert len(refused) == 1 and setting in refused[0].getMessage()
    assert "not-the-password" not in caplog.text and fake.password not in caplog.text
