"""The Asterisk ARI adapter against a fake Asterisk: what only Asterisk is asked to do and
answers (what both switches do alike is in ``test_switch_calls``)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dialer.gateway import AgentLeg, Answered, GatewayError, Hangup, NoAnswer
from dialer.telephony.ari import AriGateway
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import LiveHarness
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway
from tests.unit.telephony.flow_support import dial


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


# -- the switch goes away ----------------------------------------------------------------------
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
