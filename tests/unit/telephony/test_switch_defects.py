"""The adapter defects found by reading Asterisk's and FreeSWITCH's own sources (issue 19),
each against a fake that now behaves as the real server does in that place."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from dialer.gateway import (
    Answered,
    CallEvent,
    Failed,
    GatewayError,
    GatewayUnavailable,
    OriginateRequest,
)
from dialer.telephony.causes import CAUSE_CODES
from dialer.telephony.dialstrings import SwitchStrings
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.ari_spec import DOCS, ari_spec
from tests.fakes.contract import LiveHarness, new_call_id
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.fs_causes import FS_CAUSES
from tests.fakes.gateways import HARNESS_NUMBERS, ari_gateway, esl_gateway
from tests.fakes.scenarios import number

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["ari", "esl"])
def switch(request: pytest.FixtureRequest) -> LiveHarness:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


async def dial(h: LiveHarness, suffix: str, **fields: Any) -> str:
    values: dict[str, Any] = {
        "call_id": new_call_id(),
        "phone_e164": number(suffix),
        "caller_id": "+15550009999",
        "ring_timeout_s": 15.0,
        **fields,
    }
    await h.gateway.originate(OriginateRequest(**values), h.log)
    return str(values["call_id"])


def story(events: list[CallEvent]) -> list[str]:
    def name(e: CallEvent) -> str:
        if isinstance(e, Answered):
            return f"Answered:{e.kind}"
        if isinstance(e, Failed):
            return f"Failed:{e.reason}"
        return type(e).__name__

    return [name(e) for e in events]


async def outcome(h: LiveHarness, suffix: str, **fields: Any) -> list[str]:
    call_id = await dial(h, suffix, **fields)
    await h.ended(call_id)
    return story(h.log.of(call_id))


# -- 1: FreeSWITCH without mod_amd hangs the call up (cause 27) --------------------------------
async def test_a_missing_mod_amd_is_reported_not_counted_as_no_answer(
    freeswitch: FakeFreeSwitch, caplog: pytest.LogCaptureFixture
) -> None:
    freeswitch.amd_module = False
    async with esl_gateway(freeswitch) as gw:
        h = LiveHarness(gw, HARNESS_NUMBERS)
        with caplog.at_level(logging.WARNING):
            got = await outcome(h, "0000")
    assert got == ["Ringing", "Failed:amd_missing"]
    assert freeswitch.ended[-1][1] == FS_CAUSES["DESTINATION_OUT_OF_ORDER"]
    assert "mod_amd" in caplog.text


# -- 2: ApplicationReplaced leaves the old WebSocket open ---------------------------------------
async def test_a_replaced_process_stops_dialing_and_ends_its_calls(
    asterisk: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    async with ari_gateway(asterisk) as first:
        h = LiveHarness(first, HARNESS_NUMBERS)
        call_id = await dial(h, "0019")  # rings for a while
        with caplog.at_level(logging.ERROR):
            async with ari_gateway(asterisk):  # a second process with the same app name
                final = await h.ended(call_id)
                assert asterisk.replaced, "Asterisk keeps the replaced socket open"
                with pytest.raises(GatewayUnavailable, match="DIALER_ARI_APP"):
                    await dial(h, "0000")
    assert isinstance(final, Failed) and final.reason == "app_replaced"
    assert "took over ARI application" in caplog.text


# -- 3: 183 early media without a 180 ---------------------------------------------------------
async def test_early_media_counts_as_ringing(switch: LiveHarness) -> None:
    assert await outcome(switch, "0183") == ["Ringing", "NoAnswer"]


# -- 4 and 6: robocall rejections, and one SIP response read alike on both switches ----------
@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("0607", ["Failed:unwanted"]),
        ("0428", ["Failed:identity_rejected"]),
        ("0408", ["Ringing", "NoAnswer"]),
        ("0503", ["Failed:congestion"]),
        ("0404", ["Failed:unallocated"]),
    ],
)
async def test_the_same_sip_response_means_the_same_on_both_switches(
    switch: LiveHarness, suffix: str, expected: list[str]
) -> None:
    assert await outcome(switch, suffix) == expected


def test_every_freeswitch_cause_name_is_known_with_its_number() -> None:
    missing = {n: c for n, c in FS_CAUSES.items() if CAUSE_CODES.get(n) != c}
    assert missing == {}


# -- 5: ARI originate HTTP 500 is this call's failure, not an outage ---------------------------
async def test_a_channel_asterisk_cannot_create_fails_the_call_not_the_switch(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    asterisk.trunks = {"other-trunk"}
    with pytest.raises(GatewayError, match="Allocation failed") as raised:
        await dial(ari, "0000")
    assert not isinstance(raised.value, GatewayUnavailable)


# -- 7: the Asterisk modules the adapter needs --------------------------------------------------
def test_the_asterisk_guide_lists_every_module_ari_needs() -> None:
    guide = (ROOT / "docs" / "asterisk.md").read_text()
    needed = set()
    for resource in ("channels", "bridges", "events", "playbacks", "recordings"):
        needed.add(f"res_ari_{resource}")
        spec = json.loads((DOCS / f"{resource}.json").read_text())
        needed.update(spec.get("requiresModules", []))
    listed = set(re.findall(r"`(res_[a-z_]+)`", guide))
    assert needed - listed == set()


# -- 8: a -USAGE reply to an originate ----------------------------------------------------------
async def test_an_originate_freeswitch_cannot_parse_ends_the_call(
    freeswitch: FakeFreeSwitch, caplog: pytest.LogCaptureFixture
) -> None:
    strings = SwitchStrings("sofia/gateway/a b c d e f g/{number}", "user/{endpoint}", "x.wav")
    async with esl_gateway(freeswitch, strings=strings) as gw:
        h = LiveHarness(gw, HARNESS_NUMBERS)
        with caplog.at_level(logging.ERROR):
            got = await outcome(h, "0000")
    assert got == ["Failed:switch_refused"]
    assert "-USAGE" in caplog.text


# -- the fake Asterisk holds every request to the official definitions -------------------------
@pytest.mark.parametrize(
    ("method", "path", "query", "problem"),
    [
        ("POST", "/channels/c1/dance", {}, "no such ARI resource"),
        ("PUT", "/channels/c1", {}, "does not allow PUT"),
        ("POST", "/channels/c1", {"endpoint": "PJSIP/1", "ringtime": "5"}, "unknown parameter"),
        ("POST", "/channels/c1", {"app": "dialer"}, "missing required parameter 'endpoint'"),
        ("DELETE", "/channels/c1", {"reason": "bored"}, "is not one of"),
        ("POST", "/channels/c1", {"endpoint": "PJSIP/1", "timeout": "soon"}, "is not an int"),
    ],
)
def test_requests_outside_the_ari_definitions_are_refused(
    method: str, path: str, query: dict[str, str], problem: str
) -> None:
    problems = ari_spec().check(method, path, query)
    assert problems and problem in problems[0]


def test_what_the_adapter_sends_is_within_the_definitions() -> None:
    good = [
        ("GET", "/events", {"app": "dialer", "subscribeAll": "false"}),
        ("POST", "/channels/c1", {"endpoint": "PJSIP/1@trunk", "app": "dialer", "timeout": "30"}),
        ("POST", "/channels/c1/continue", {"context": "dialer-amd", "priority": "1"}),
        ("POST", "/bridges/b1/addChannel", {"channel": "c1,c2"}),
        ("DELETE", "/channels/c1", {"reason": "normal"}),
    ]
    assert [p for m, path, q in good for p in ari_spec().check(m, path, q)] == []


async def test_the_fake_fails_a_test_that_sent_an_undefined_request(
    ari: LiveHarness, asterisk: FakeAsterisk
) -> None:
    status, _ = await ari.gateway.request("POST", "/channels/c1/dance")  # type: ignore[attr-defined]
    assert status == 400
    assert asterisk.spec_errors
    asterisk.spec_errors.clear()  # (else stopping the fake fails this test)
