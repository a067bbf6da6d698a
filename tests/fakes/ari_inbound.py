"""Inbound calls on the fake Asterisk: a caller dials one of the campaigns' numbers.

As Asterisk does for ``exten => _X.,1,Stasis(dialer,inbound)`` in the trunk's context: a
channel with an Asterisk unique id (``<epoch>.<n>``), state ``Ring`` (not answered),
``caller.number`` the caller and ``dialplan.exten`` the number dialed, enters the
application with ``StasisStart`` (args ``["inbound"]``). ``POST /channels/{id}/answer``
(channels.json: 204; 404 "Channel not found"; 409 "Channel not in a Stasis application")
answers it with a ``ChannelStateChange`` to ``Up``.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from aiohttp import web

from tests.fakes.calls import Leg, ts
from tests.fakes.scenarios import HUMAN, Script

_UNIQUE = itertools.count(1)


class AriInboundMixin:
    """Mixin of ``FakeAsterisk``."""

    def place_inbound(
        self,
        caller: str,
        dialed: str,
        *,
        app: str = "dialer",
        args: tuple[str, ...] = ("inbound",),
        script: Script = HUMAN,
    ) -> Leg:
        fake: Any = self
        leg = Leg(
            id=f"{int(time.time())}.{next(_UNIQUE)}",
            name=f"PJSIP/trunk-{next(fake._names):08x}",
            app=app,
            app_args=",".join(args),
            endpoint="PJSIP/trunk",
            caller=caller,
            script=script,
            variables={},
            timeout_s=3600.0,
            callee=True,
            created=ts(),
            state="Ring",
            context="from-trunk",
            exten=dialed,
            inbound=True,
        )
        fake.legs[leg.id] = leg
        fake.enter_stasis(leg, app, list(args))
        fake.notify()
        return leg

    async def _answer_channel(self, request: web.Request) -> web.Response:
        fake: Any = self
        leg = fake.legs.get(request.match_info["id"])
        if leg is None:
            return web.json_response({"message": "Channel not found"}, status=404)
        if not leg.in_stasis:
            return web.json_response({"message": "Channel not in Stasis application"}, status=409)
        if not leg.answered:
            leg.state, leg.answered = "Up", True
            fake.emit(leg, "ChannelStateChange", channel=fake.channel_json(leg))
            fake.notify()
        return web.Response(status=204)
