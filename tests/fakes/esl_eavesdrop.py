"""The fake FreeSWITCH's ``eavesdrop`` application and ``uuid_recv_dtmf`` (monitoring).

As mod_dptools ``eavesdrop_function`` and ``switch_ivr_eavesdrop_session`` do: the
eavesdropper's ``eavesdrop_whisper_aleg`` sets ``ED_MUX_READ`` (its voice is mixed into
what the spied channel reads, so that channel's bridged partner hears it) and
``eavesdrop_whisper_bleg`` ``ED_MUX_WRITE`` (the spied channel's own phone hears it);
``eavesdrop_enable_dtmf`` (default on) lets digits queued on the eavesdropper switch the
mix: ``1`` read only, ``2`` write only, ``3`` both, ``0`` neither, ``*`` leave. When the
spied channel hangs up (or does not exist) the application returns and the eavesdropper's
channel hangs up. ``uuid_recv_dtmf <uuid> <digits>`` (mod_commands) answers ``+OK <uuid>
received DTMF <digits>.``, ``-ERR Cannot locate session!`` or ``-USAGE: <uuid> <dtmf_data>``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.fakes.calls import Leg

if TYPE_CHECKING:
    from collections.abc import Callable

PREFIX = "&eavesdrop("
MUX = {"1": (True, False), "2": (False, True), "3": (True, True), "0": (False, False)}


@dataclass
class Eavesdrop:
    target: str
    mux_read: bool
    mux_write: bool
    dtmf: bool


def _true(value: str | None) -> bool:
    return (value or "").lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")


class EavesdropMixin:
    """``eavesdrop`` for ``FakeFreeSwitch`` (a mixin over its legs and events)."""

    legs: dict[str, Leg]
    end: Callable[..., None]
    emit_channel: Callable[..., None]
    notify: Callable[[], None]

    def init_eavesdrop(self) -> None:
        self.eavesdrops: dict[str, Eavesdrop] = {}  # eavesdropper uuid → what it hears

    def start_eavesdrop(self, leg: Leg) -> None:
        """The answered eavesdropper runs ``&eavesdrop(<uuid>)``."""
        target = leg.app_args[len(PREFIX) :].rstrip(")")
        leg.app_name = "eavesdrop"
        self.emit_channel("CHANNEL_EXECUTE", leg, ("Application", "eavesdrop"))
        if target not in self.legs:  # "no such uuid": the application returns at once
            asyncio.get_running_loop().call_soon(self.end, leg, 16)
            return
        v = leg.variables
        enable = v.get("eavesdrop_enable_dtmf")
        self.eavesdrops[leg.id] = Eavesdrop(
            target,
            _true(v.get("eavesdrop_whisper_aleg")),
            _true(v.get("eavesdrop_whisper_bleg")),
            True if enable is None else _true(enable),
        )
        self.notify()

    def recv_dtmf(self, args: list[str]) -> str:
        if len(args) < 2:
            return "-USAGE: <uuid> <dtmf_data>\n"
        leg = self.legs.get(args[0])
        if leg is None:
            return "-ERR Cannot locate session!\n"
        spying = self.eavesdrops.get(leg.id)
        for digit in args[1]:
            if spying is None or not spying.dtmf:
                break
            if digit == "*":
                asyncio.get_running_loop().call_soon(self.end, leg, 16)
            elif digit in MUX:
                spying.mux_read, spying.mux_write = MUX[digit]
        self.notify()
        return f"+OK {leg.id} received DTMF {args[1]}.\n"

    def end_eavesdrops(self, leg: Leg) -> None:
        """An eavesdropper hung up; or a spied channel did: its eavesdroppers hang up."""
        self.eavesdrops.pop(leg.id, None)
        for uid, spying in list(self.eavesdrops.items()):
            if spying.target == leg.id:
                del self.eavesdrops[uid]
                if uid in self.legs:
                    asyncio.get_running_loop().call_soon(self.end, self.legs[uid], 16)

    def hearing(self, eavesdropper: str) -> set[str]:
        """The channels whose phones hear the eavesdropper."""
        spying = self.eavesdrops.get(eavesdropper)
        if spying is None:
            return set()
        target = self.legs.get(spying.target)
        heard = set()
        if spying.mux_read and target is not None and target.bridge:
            heard.add(target.bridge)
        if spying.mux_write:
            heard.add(spying.target)
        return heard
