"""What both switch adapters share: hangup causes, reconnection delays, dial strings and
media, and the call book that keeps the event contract whatever order the switch speaks in."""

from __future__ import annotations

import logging
import random

import pytest

from dialer.backoff import Backoff, StateLog
from dialer.gateway import AgentLeg, Busy, Failed, Hangup, NoAnswer, OriginateRequest
from dialer.telephony.callbook import CallBook
from dialer.telephony.causes import cause_code, cause_label, hangup_party, unanswered_event
from dialer.telephony.dialstrings import DEFAULTS, ari_media, esl_media
from dialer.timer import VirtualTimer
from tests.fakes.contract import EventLog, check_contract


@pytest.mark.parametrize(
    ("code", "rang", "rang_out", "expected"),
    [
        (17, False, False, Busy("c", 1.0)),
        (19, True, True, NoAnswer("c", 1.0)),
        (18, True, False, NoAnswer("c", 1.0)),
        (34, False, False, Failed("c", 1.0, "congestion")),
        (42, False, False, Failed("c", 1.0, "congestion")),
        (1, False, False, Failed("c", 1.0, "unallocated")),
        (21, True, False, Failed("c", 1.0, "rejected")),
        (28, False, False, Failed("c", 1.0, "invalid_number")),
        (16, True, False, NoAnswer("c", 1.0)),  # it rang, then "normal clearing"
        (16, False, False, Failed("c", 1.0, "normal")),
        (0, False, True, NoAnswer("c", 1.0)),  # the ring timeout passed
        (808, False, False, Failed("c", 1.0, "gateway")),
    ],
)
def test_unanswered_causes_become_busy_no_answer_or_failed(
    code: int, rang: bool, rang_out: bool, expected: object
) -> None:
    assert unanswered_event("c", 1.0, code, rang=rang, rang_out=rang_out) == expected


def test_causes_read_the_same_from_asterisk_numbers_and_freeswitch_names() -> None:
    assert cause_code(17) == cause_code("17") == cause_code("USER_BUSY") == 17
    assert cause_code("NORMAL_CIRCUIT_CONGESTION") == 34
    assert cause_code("ORIGINATOR_CANCEL") == 487
    assert cause_code(None) == cause_code("SOMETHING_NEW") == 0
    assert (cause_label(16), cause_label(17), cause_label(999)) == (
        "normal",
        "user_busy",
        "cause_999",
    )
    assert (hangup_party(16), hangup_party(38), hangup_party(804)) == (
        "callee",
        "network",
        "network",
    )


def request(call_id: str = "c1", amd: bool = True) -> OriginateRequest:
    return OriginateRequest(call_id, "+15550100000", "+15550009999", 15.0, amd)


async def test_call_book_keeps_the_contract_whatever_the_switch_repeats() -> None:
    timer, log = VirtualTimer(), EventLog()
    book = CallBook(timer)
    call = book.add(request(), log)
    book.ring(call)
    book.ring(call)
    book.answer(call, "human")
    book.ring(call)
    book.answer(call, "machine")
    book.end(call, 16)
    book.end(call, 34)
    book.lose(call)
    assert log.kinds("c1") == ["Ringing", "Answered", "Hangup"]
    assert log.of("c1")[-1] == Hangup("c1", 0.0, "callee", "normal")
    check_contract(log.of("c1"))


async def test_call_book_says_who_ended_the_call() -> None:
    timer, log = VirtualTimer(), EventLog()
    book = CallBook(timer)
    ours, agents, amd, lost = (book.add(request(c), log) for c in ("a", "b", "c", "d"))
    for call in (ours, agents, lost):
        book.answer(call, "human")
    ours.hangup_requested = True
    agents.agent_left = True
    amd.up = True  # picked up; AMD had not decided
    for call in (ours, agents, amd):
        book.end(call, 16)
    book.lose(lost)
    assert log.final("a") == Hangup("a", 0.0, "dialer", "normal")
    assert log.final("b") == Hangup("b", 0.0, "agent", "normal")
    assert log.final("c") == NoAnswer("c", 0.0)
    assert log.final("d") == Hangup("d", 0.0, "network", "lost")
    assert len(book) == 0


def test_backoff_grows_with_jitter_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0, jitter=0.5, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    replay = Backoff(base_s=0.5, cap_s=4.0, jitter=0.5, rng=random.Random(3))
    assert [replay.next_delay() for _ in range(8)] == delays  # seeded: replayable
    other = Backoff(base_s=0.5, cap_s=4.0, jitter=0.5, rng=random.Random(4))
    assert [other.next_delay() for _ in range(8)] != delays  # processes do not retry in step
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_state_log_speaks_once_per_change(caplog: pytest.LogCaptureFixture) -> None:
    state = StateLog(logging.getLogger("test.link"))
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            state.enter("down", logging.WARNING, "switch unreachable")
        state.enter("up", logging.INFO, "connected")
        state.enter("down", logging.WARNING, "switch unreachable")
    assert [r.getMessage() for r in caplog.records] == [
        "switch unreachable",
        "connected",
        "switch unreachable",
    ]


def test_dial_strings_from_templates_and_agent_endpoints() -> None:
    ari, esl = DEFAULTS["ari"], DEFAULTS["esl"]
    assert ari.callee("+15551230000") == "PJSIP/+15551230000@trunk"
    assert esl.callee("+15551230000") == "sofia/gateway/trunk/+15551230000"
    assert ari.agent_leg(AgentLeg(5, "PJSIP/1005")) == "PJSIP/1005"
    assert ari.agent_leg(AgentLeg(5, "1005")) == "PJSIP/1005"
    assert ari.agent_leg(AgentLeg(5)) == "PJSIP/agent5"
    assert esl.agent_leg(AgentLeg(5)) == "user/agent5"


def test_messages_play_as_sounds_or_fall_back_to_the_recording() -> None:
    assert ari_media("sound:acme/sorry", "sound:x") == "sound:acme/sorry"
    assert ari_media("recording:acme-sorry", "sound:x") == "recording:acme-sorry"
    assert ari_media("Sorry we missed you", "sound:x") == "sound:x"
    assert ari_media(None, "sound:x") == "sound:x"
    assert esl_media("/srv/sounds/sorry.wav", "x.wav") == "/srv/sounds/sorry.wav"
    assert esl_media("acme/sorry.wav", "x.wav") == "acme/sorry.wav"
    assert esl_media("sound:dialer/recording-notice", "x.wav") == "dialer/recording-notice.wav"
    assert esl_media("say:en number pronounced 5", "x.wav") == "x.wav"  # spaces: text
    assert esl_media("Sorry we missed you.", "x.wav") == "x.wav"
