"""The Asterisk ARI adapter against a fake Asterisk: what the engine hears for each kind of
call, what Asterisk is asked to do, and what happens when Asterisk goes away."""

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
from dialer.telephony.ari import AriGateway
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import LiveHarness, check_contract, new_call_id
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway
from tests.fakes.scenarios import number


async def dial(h: LiveHarness, suffix: str, **fields: Any) -> str:
    values: dict[str, Any] = {
        "call_id": new_call_id(),
        "phone_e164": number(suffix),
        "caller_id": "+15550009999",
        "ring_timeout_s": 15.0,
        "variables": (("attempt_id", "41"), ("campaign id", "7")),
        **fields,
    }
    await h.gateway.originate(OriginateRequest(**values), h.log)
    return str(values["call_id"])


def originates(fake: FakeAsterisk, call_id: str) -> tuple[dict[str, str], Any]:
    return next((q, b) for m, p, q, b in fake.requests if m == "POST" and p.endswith(call_id))


# -- what the engine hears ---------------------------------------------------------------------
async def test_answered_human_passes_amd_and_carries_our_ids(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await dial(ari, "0000", ring_timeout_s=15.5)
    await ari.until(lambda: ari.log.answer(call_id) is not None)
    assert ari.log.kinds(call_id) == ["Ringing", "Answered"]
    assert ari.log.answer(call_id) == Answered(call_id, ari.log.of(call_id)[1].t, "human")
    params, body = originates(asterisk, call_id)
    assert params["endpoint"] == "PJSIP/+15550100000@trunk"
    assert (params["app"], params["appArgs"], params["timeout"]) == ("dialer", "dial", "16")
    assert params["callerId"] == "+15550009999"
    assert body["variables"] == {
        "DIALER_APP": "dialer",
        "DIALER_CALL_ID": call_id,
        "DIALER_AMD": "1",
        "DIALER_ATTEMPT_ID": "41",
        "DIALER_CAMPAIGN_ID": "7",
    }
    amd = [q for m, p, q, _ in asterisk.requests if p.endswith(f"{call_id}/continue")]
    assert amd == [{"context": "dialer-amd", "extension": "s", "priority": "1"}]


async def test_without_amd_the_answer_is_human_at_once(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await dial(ari, "0002", amd=False)  # a machine, but nobody asked
    await ari.until(lambda: ari.log.answer(call_id) is not None)
    assert ari.log.answer(call_id).kind == "human"  # type: ignore[union-attr]
    assert not [p for _, p, _, _ in asterisk.requests if p.endswith("/continue")]


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("0002", ["Ringing", "Answered:machine"]),
        ("0006", ["Ringing", "Answered:human"]),  # AMD NOTSURE counts as human
        ("0017", ["Busy"]),
        ("0019", ["Ringing", "NoAnswer"]),
        ("0034", ["Failed:congestion"]),
        ("0001", ["Failed:unallocated"]),
        ("0021", ["Ringing", "Failed:rejected"]),
        ("0005", ["Ringing", "NoAnswer"]),  # picked up, gone before AMD could tell
    ],
)
async def test_each_kind_of_call_is_reported_as_the_engine_expects(
    ari: LiveHarness, suffix: str, expected: list[str]
) -> None:
    call_id = await dial(ari, suffix)
    final = {"Answered": Answered, "Busy": Busy, "NoAnswer": NoAnswer, "Failed": Failed}
    last = final[expected[-1].split(":")[0]]
    await ari.until(lambda: any(isinstance(e, last) for e in ari.log.of(call_id)))
    got = [
        f"{type(e).__name__}:{e.kind}"
        if isinstance(e, Answered)
        else f"Failed:{e.reason}"
        if isinstance(e, Failed)
        else type(e).__name__
        for e in ari.log.of(call_id)
    ]
    assert got == expected
    await ari.gateway.hangup(call_id)
    await ari.ended(call_id)
    check_contract(ari.log.of(call_id))


async def test_caller_who_hangs_up_waiting_for_an_agent(ari: LiveHarness) -> None:
    call_id = await dial(ari, "0003")
    final = await ari.ended(call_id)
    assert ari.log.kinds(call_id) == ["Ringing", "Answered", "Hangup"]
    assert isinstance(final, Hangup) and (final.by, final.cause) == ("callee", "normal")


# -- agents ------------------------------------------------------------------------------------
async def test_bridge_calls_the_agent_and_mixes_both_legs(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await ari.answered_human()
    await ari.gateway.bridge(call_id, AgentLeg(3, "PJSIP/1003"))
    leg = f"{call_id}-agent"
    bridge = asterisk.bridges[f"{call_id}-bridge"]
    assert bridge["bridge_type"] == "mixing" and sorted(bridge["channels"]) == [call_id, leg]
    params, _ = originates(asterisk, leg)
    assert (params["endpoint"], params["appArgs"]) == ("PJSIP/1003", "agent")
    asterisk.hangup_far(leg)  # the agent hangs up
    final = await ari.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "agent"
    await asterisk.until(lambda: not asterisk.bridges and not asterisk.legs)


async def test_callee_hanging_up_releases_the_agent_leg(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await ari.answered_human()
    await ari.gateway.bridge(call_id, AgentLeg(8))  # no endpoint: the template names it
    assert originates(asterisk, f"{call_id}-agent")[0]["endpoint"] == "PJSIP/agent8"
    asterisk.hangup_far(call_id)
    final = await ari.ended(call_id)
    assert isinstance(final, Hangup) and (final.by, final.cause) == ("callee", "normal")
    await asterisk.until(lambda: not asterisk.bridges and not asterisk.legs)


async def test_agent_phone_that_does_not_answer_fails_the_bridge_only(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await ari.answered_human()
    with pytest.raises(GatewayError, match="did not answer"):
        await ari.gateway.bridge(call_id, AgentLeg(4, "PJSIP/agent-noanswer"))
    assert ari.log.final(call_id) is None and call_id in asterisk.legs
    await ari.gateway.hangup(call_id)
    assert isinstance(await ari.ended(call_id), Hangup)


# -- messages ----------------------------------------------------------------------------------
async def test_text_message_plays_the_configured_recording(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await ari.answered_human()
    assert await ari.gateway.play(call_id, "Sorry we missed you, this is Acme") is True
    assert asterisk.played == [(call_id, "sound:dialer/safe-harbor")]


async def test_missing_recording_fails_the_playback_with_a_warning(
    ari: LiveHarness, asterisk: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    """PlaybackFinished with state ``failed`` (playbacks.json) is a playback that did not
    happen: the engine must know (a required recording notice that failed means no
    recording)."""
    call_id = await ari.answered_human()
    with caplog.at_level(logging.WARNING), pytest.raises(GatewayError, match="not-recorded"):
        await ari.gateway.play(call_id, "sound:not-recorded-yet")
    assert "not-recorded-yet" in caplog.text


async def test_callee_hanging_up_during_the_message(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    call_id = await ari.answered_human()
    playing = ari.gateway.play(call_id, "sound:dialer/safe-harbor")
    asterisk.play_s = 1e6
    task = asyncio.ensure_future(playing)
    await asterisk.until(lambda: bool(asterisk.played))
    asterisk.hangup_far(call_id)
    assert await task is False
    final = await ari.ended(call_id)
    assert isinstance(final, Hangup) and final.by == "callee"


# -- the switch goes away ----------------------------------------------------------------------
async def test_asterisk_restarting_mid_call_ends_calls_it_lost(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    talking = await ari.answered_human()
    ringing = await dial(ari, "0019", ring_timeout_s=600.0)
    await ari.until(lambda: bool(ari.log.of(ringing)))
    await asterisk.restart()
    await ari.until(lambda: bool(ari.log.final(talking) and ari.log.final(ringing)))
    assert ari.log.final(talking) == Hangup(talking, ari.log.final(talking).t, "network", "lost")  # type: ignore[union-attr]
    assert isinstance(ari.log.final(ringing), Failed) and ari.log.final(ringing).reason == "lost"  # type: ignore[union-attr]
    assert asterisk.connections == 2
    assert isinstance(ari.gateway, AriGateway)
    await ari.until(ari.gateway.link.ready.is_set)  # reconciled: dialling works again
    again = await dial(ari, "0000")
    await ari.until(lambda: ari.log.answer(again) is not None)


async def test_events_missed_during_a_network_blip_are_caught_up(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    gateway = ari.gateway
    assert isinstance(gateway, AriGateway)
    asterisk.refuse_events = True
    call_id = await dial(ari, "0000")
    await gateway.link.drop()
    leg = asterisk.legs[call_id]
    await asterisk.until(lambda: leg.in_stasis)  # answered while we were away
    assert ari.log.answer(call_id) is None
    asterisk.refuse_events = False
    await ari.until(lambda: ari.log.answer(call_id) is not None)
    assert ari.log.answer(call_id).kind == "human"  # type: ignore[union-attr]
    assert [p for _, p, _, _ in asterisk.requests if p.endswith(f"{call_id}/continue")]


async def test_reconcile_hangs_up_only_our_stray_channels_and_bridges(
    asterisk: FakeAsterisk,
) -> None:
    asterisk.add_stray("left-over", app_var="dialer")
    asterisk.add_stray("in-our-app", app_var="dialer", in_stasis_of="dialer")
    asterisk.add_stray("someone-else", app_var="crm")
    asterisk.bridges["old"] = {"id": "old", "name": "dialer:gone-call", "channels": []}
    asterisk.bridges["theirs"] = {"id": "theirs", "name": "conference", "channels": []}
    async with ari_gateway(asterisk):
        await asterisk.until(lambda: set(asterisk.legs) == {"someone-else"})
        assert set(asterisk.bridges) == {"theirs"}


async def test_channelvars_from_ari_conf_spare_the_variable_lookups() -> None:
    fake = FakeAsterisk(channelvars=("DIALER_APP",))
    await fake.start()
    try:
        fake.add_stray("left-over", app_var="dialer")
        fake.add_stray("someone-else", app_var="crm")
        async with ari_gateway(fake):
            await fake.until(lambda: set(fake.legs) == {"someone-else"})
        assert not [p for _, p, _, _ in fake.requests if p.endswith("/variable")]
    finally:
        await fake.stop()


async def test_outage_is_logged_once_and_calls_wait_for_the_switch(
    ari: LiveHarness, asterisk: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = ari.gateway
    assert isinstance(gateway, AriGateway)
    with caplog.at_level(logging.INFO, logger="dialer.telephony.ari"):
        await asterisk.stop()
        await ari.until(lambda: gateway.link.backoff.attempts >= 4)
        with pytest.raises(GatewayError):
            await dial(ari, "0000")
        await asterisk.start()
        await ari.until(gateway.link.ready.is_set)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("lost the ARI connection" in m or "unreachable" in m for m in messages) == 1
    assert sum("connected to Asterisk ARI" in m for m in messages) == 1


async def test_wrong_password_is_reported_once_and_never_logged(
    asterisk: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = Secret("not-the-password")
    with caplog.at_level(logging.DEBUG), pytest.raises(GatewayError, match="not reachable"):
        async with ari_gateway(asterisk, password=wrong, connect_timeout_s=0.3):
            pass
    refused = [r for r in caplog.records if "refused ARI user" in r.getMessage()]
    assert len(refused) == 1 and "DIALER_ARI_PASSWORD" in refused[0].getMessage()
    assert "not-the-password" not in caplog.text and asterisk.password not in caplog.text


async def test_asterisk_refusing_a_call_raises_and_says_nothing(asterisk: FakeAsterisk) -> None:
    async with ari_gateway(asterisk) as gateway:
        h = LiveHarness(gateway, HARNESS_NUMBERS)
        asterisk.add_stray("taken", app_var="crm")
        with pytest.raises(GatewayError, match="409"):
            await dial(h, "0000", call_id="taken")
        assert h.log.of("taken") == [] and gateway.calls_up == 0


def test_config_repr_masks_the_password(asterisk: FakeAsterisk) -> None:
    from tests.fakes.gateways import ari_config

    assert asterisk.password not in repr(ari_config(asterisk))


async def test_a_missing_amd_context_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeAsterisk(contexts=frozenset())  # extensions.conf lacks [dialer-amd]
    await fake.start()
    try:
        async with ari_gateway(fake) as gw:
            h = LiveHarness(gw, HARNESS_NUMBERS)
            with caplog.at_level(logging.WARNING):
                call_id = await dial(h, "0000")
                assert isinstance(await h.ended(call_id), NoAnswer)
    finally:
        await fake.stop()
    assert "'dialer-amd' context in extensions.conf" in caplog.text
