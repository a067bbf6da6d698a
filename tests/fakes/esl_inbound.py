"""Inbound calls on the fake FreeSWITCH: a caller dials one of the campaigns' numbers.

As FreeSWITCH does for an extension of the trunk's context that runs ``set
dialer_app=<app>`` then ``park``: a ``sofia/external`` channel (``Call-Direction:
inbound``, ``Caller-Caller-ID-Number`` the caller, ``Caller-Destination-Number`` the
number dialed), ``CHANNEL_CREATE`` then ``CHANNEL_PARK`` (both carry the channel
variables: switch_channel_event_set_extended_data), not answered. ``uuid_answer <uuid>``
(mod_commands) answers it (``CHANNEL_ANSWER``; ``+OK``), or ``-ERR No such channel!``.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.calls import Leg, ts
from tests.fakes.scenarios import HUMAN, Script


class EslInboundMixin:
    """Mixin of ``FakeFreeSwitch``."""

    def place_inbound(
        self, caller: str, dialed: str, *, app: str = "dialer", script: Script = HUMAN
    ) -> Leg:
        fake: Any = self
        leg = Leg(
            id=str(uuid.uuid4()),
            name=f"sofia/external/{caller}",
            app=app,
            app_args="park",
            endpoint=f"sofia/external/{dialed}",
            caller=caller,
            script=script,
            variables={"dialer_app": app},
            timeout_s=3600.0,
            callee=True,
            created=ts(),
            state="Ringing",
            app_name="park",
            inbound=True,
        )
        fake.legs[leg.id] = leg
        fake.emit_channel("CHANNEL_CREATE", leg)
        fake.emit_channel("CHANNEL_PARK", leg)
        fake.notify()
        return leg

    def uuid_answer(self, leg: Leg | None) -> str:
        fake: Any = self
        if leg is None:
            return "-ERR No such channel!\n"
        if not leg.answered:
            leg.state, leg.answered = "Up", True
            fake.emit_channel("CHANNEL_ANSWER", leg)
            fake.notify()
        return "+OK\n"
