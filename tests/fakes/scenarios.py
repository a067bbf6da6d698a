"""What the far end of a call does, chosen by the number dialled (shared by both fake switches).

The last four digits of the callee's number pick a script, so a test says what it wants by
the number it dials (``+1555010`` + ``0017`` is busy). Durations are switch seconds; each
fake multiplies them by its ``time_scale`` so a 15-second ring timeout takes milliseconds.
Agent endpoints answer quickly unless their name contains ``noanswer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    """One callee's behaviour, in switch seconds (None: never)."""

    ring_after: float | None = 1.0
    answer_after: float | None = 3.0
    end_after: float | None = None  # ends unanswered with ``cause`` at this time
    cause: int = 16  # Q.850 cause when it ends unanswered (or hangs up)
    sip: int | None = None  # the SIP final response it ends with (overrides ``cause``)
    early_media: bool = False  # rings as SIP 183 Session Progress only (no 180)
    amd: str = "HUMAN"  # what AMD() / mod_amd concludes: HUMAN, MACHINE, NOTSURE, HANGUP
    amd_cause: str = "HUMAN-500-500"
    amd_s: float = 1.5
    patience_s: float | None = None  # hangs up this long after answering unless bridged
    talk_s: float = 20.0  # hangs up this long after being bridged to an agent
    beep_s: float | None = None  # a machine's beep ends this long after AMD's verdict


HUMAN = Script()
SCENARIOS: dict[str, Script] = {
    "0017": Script(ring_after=None, answer_after=None, end_after=0.4, cause=17),  # busy
    "0019": Script(answer_after=None, cause=19),  # rings until the ring timeout
    "0034": Script(ring_after=None, answer_after=None, end_after=0.2, cause=34),  # congestion
    "0001": Script(ring_after=None, answer_after=None, end_after=0.2, cause=1),  # unallocated
    "0021": Script(answer_after=None, end_after=5.0, cause=21),  # rejected while ringing
    "0002": Script(amd="MACHINE", amd_cause="LONGGREETING-1600-1500", amd_s=2.5, beep_s=2.0),
    "0009": Script(amd="MACHINE", amd_cause="LONGGREETING-1600-1500", amd_s=2.5),  # no beep
    "0003": Script(patience_s=4.0),  # a human who gives up waiting for an agent
    "0005": Script(amd="HANGUP", amd_cause="HANGUP", amd_s=1.0),  # leaves during AMD
    "0006": Script(amd="NOTSURE", amd_cause="TOOLONG-5000", amd_s=5.0),
    # 183 Session Progress with early media only, then the carrier clears the call
    "0183": Script(early_media=True, answer_after=None, end_after=5.0, cause=16),
    "0408": Script(answer_after=None, end_after=5.0, sip=408),  # rings, then times out
    "0503": Script(ring_after=None, answer_after=None, end_after=0.2, sip=503),
    "0404": Script(ring_after=None, answer_after=None, end_after=0.2, sip=404),  # no such number
    "0607": Script(ring_after=None, answer_after=None, end_after=0.3, sip=607),  # robocall block
    "0428": Script(ring_after=None, answer_after=None, end_after=0.2, sip=428),  # no STIR/SHAKEN
}
AGENT = Script(ring_after=0.1, answer_after=0.3, amd="HUMAN", talk_s=1e9)
AGENT_NO_ANSWER = Script(ring_after=0.1, answer_after=None, cause=19)


def script_for(number: str) -> Script:
    """The callee script for a dialled number (its last four digits; human otherwise)."""
    digits = re.sub(r"\D", "", number)
    return SCENARIOS.get(digits[-4:], HUMAN)


def agent_script(endpoint: str) -> Script:
    return AGENT_NO_ANSWER if "noanswer" in endpoint.lower() else AGENT


def number(suffix: str) -> str:
    """A test callee number ending in ``suffix`` (e.g. ``number("0017")`` is busy)."""
    return "+1555010" + suffix


CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}
