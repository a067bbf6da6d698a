"""``SimGatewayParams``: what the simulated switch adds to the callee model (AMD, fax,
machines, playback, the network's dead numbers and flagged caller IDs, callbacks)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from dialer.sim.model import CalleeModel


@dataclass(frozen=True, slots=True)
class SimGatewayParams:
    """What the callee model does not say: AMD behaviour, fax, machines, playback.

    ``amd_false_machine``: share of humans AMD calls machines (they are hung up on).
    ``amd_false_human``: share of machines AMD passes as humans (an agent gets a greeting).
    ``fax_share``: share of machine answers that are fax tones.
    """

    callee: CalleeModel = field(default_factory=CalleeModel)
    amd_false_machine: float = 0.02
    amd_false_human: float = 0.10
    fax_share: float = 0.05
    ringing_after_s: float = 0.5
    machine_greeting_s: float = 25.0
    machine_talk_s: float = 8.0
    machine_beep_s: float = 4.0  # mean time from the AMD verdict to the end of the beep
    beepless_share: float = 0.1  # machines that never beep (full mailbox, odd greetings)
    message_chars_per_s: float = 15.0
    min_message_s: float = 2.0
    # Number hygiene (a number's and a caller ID's fate are fixed, by a hash of it):
    unallocated: frozenset[str] = frozenset()  # numbers that do not exist
    unallocated_share: float = 0.0  # share of other numbers that do not exist either
    flagged_caller_share: float = 0.0  # caller IDs carriers label as spam
    flagged_block_share: float = 0.3  # of their calls, rejected outright (SIP 607)
    flagged_answer_factor: float = 0.4  # their humans answer this much as often
    # In-call opt-out: this share of live callees presses ``opt_out_digit`` during the first
    # message they hear (the engine acts on it only while it offers the opt-out).
    opt_out_share: float = 0.0
    opt_out_digit: str = "9"
    # Callbacks (``sim_inbound``): this share of called callees call the caller ID back.
    callback_share: float = 0.0
    callback_after_s: float = 120.0
    legs_unanswered: frozenset[str] = frozenset()  # transfer targets that never answer

    def __post_init__(self) -> None:
        for name in (
            "amd_false_machine",
            "amd_false_human",
            "fax_share",
            "unallocated_share",
            "flagged_caller_share",
            "flagged_block_share",
            "flagged_answer_factor",
            "opt_out_share",
            "callback_share",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability")

    def number_exists(self, phone: str) -> bool:
        return phone not in self.unallocated and share(phone) >= self.unallocated_share

    def caller_flagged(self, caller_id: str) -> bool:
        return share("caller:" + caller_id) < self.flagged_caller_share

    @classmethod
    def demo(cls) -> SimGatewayParams:
        """What ``dialer demo`` shows: a few dead numbers and a caller ID flagged as spam."""
        return cls(
            unallocated_share=0.03,
            flagged_caller_share=0.25,
            opt_out_share=0.3,
            callback_share=0.05,
            callback_after_s=60.0,
        )

    def message_s(self, message: str) -> float:
        return max(self.min_message_s, len(message) / self.message_chars_per_s)


def share(text: str) -> float:
    """A stable number in [0, 1) for ``text`` (the same on every run and process)."""
    return zlib.crc32(text.encode()) / 2**32
