"""The fake Asterisk's snoop channels and ``removeChannel`` (supervisor monitoring).

As ``res_stasis_snoop.c`` and ``resource_channels.c`` do: ``POST /channels/{id}/snoop``
answers 404 for an unknown channel and 400 when neither ``spy`` nor ``whisper`` is given;
the snoop channel is created ``Up``, named ``Snoop/<spied id>-<n:08x>``, with ``snoopId``
as its id, and enters ``Stasis(app, appArgs)`` on its own thread (a ``StasisStart`` just
after the reply). It hangs up when the channel it spies on goes away (its audiohook stops
running; ``snoop_read`` returns NULL). ``POST /bridges/{id}/removeChannel`` answers 204, or
404 (bridge), 400 (channel) and 422 (not in that bridge) as bridges.json says.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.calls import Leg, ts
from tests.fakes.scenarios import AGENT

if TYPE_CHECKING:
    from collections.abc import Callable

Json = dict[str, Any]
DIRECTIONS = ("none", "both", "out", "in")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


class SnoopMixin:
    """Snoop channels for ``FakeAsterisk`` (a mixin over its legs, bridges and events)."""

    legs: dict[str, Leg]
    bridges: dict[str, Json]
    emit: Callable[..., None]
    end: Callable[..., None]
    enter_stasis: Callable[[Leg, str, list[str]], None]
    channel_json: Callable[[Leg], Json]
    notify: Callable[[], None]

    def init_snoops(self) -> None:
        self.snoops: dict[str, tuple[str, str, str]] = {}  # snoop id → (spied, spy, whisper)
        self._snoop_seq = itertools.count(1)

    async def _snoop(self, request: web.Request) -> web.Response:
        target = self.legs.get(request.match_info["id"])
        query = request.query
        spy, whisper = query.get("spy", "none"), query.get("whisper", "none")
        if spy not in DIRECTIONS or whisper not in DIRECTIONS:
            return _error(400, "Invalid direction specified")
        if not query.get("app"):
            return _error(400, "Application name is required")
        if target is None:
            return _error(404, "Channel not found")
        if spy == "none" and whisper == "none":
            return _error(400, "Invalid parameters")  # stasis_app_control_snoop: NULL
        sid = query.get("snoopId") or f"snoop-{next(self._snoop_seq)}"
        leg = Leg(
            id=sid,
            name=f"Snoop/{target.id}-{next(self._snoop_seq):08x}",
            app=query["app"],
            app_args=query.get("appArgs", ""),
            endpoint="",
            caller="",
            script=AGENT,
            variables={},
            timeout_s=0.0,
            callee=False,
            created=ts(),
            state="Up",
            answered=True,
        )
        self.legs[sid] = leg
        self.snoops[sid] = (target.id, spy, whisper)
        args = leg.app_args.split(",") if leg.app_args else []
        asyncio.get_running_loop().call_soon(self.enter_stasis, leg, leg.app, args)
        self.notify()
        return web.json_response(self.channel_json(leg))

    async def _remove_channel(self, request: web.Request) -> web.Response:
        bridge = self.bridges.get(request.match_info["id"])
        if bridge is None:
            return _error(404, "Bridge not found")
        legs = []
        for cid in request.query.get("channel", "").split(","):
            leg = self.legs.get(cid)
            if leg is None:
                return _error(400, "Channel not found")
            if cid not in bridge["channels"]:
                return _error(422, "Channel not in this bridge")
            legs.append(leg)
        for leg in legs:
            leg.bridge = None
            bridge["channels"].remove(leg.id)
            self.emit(leg, "ChannelLeftBridge", bridge=bridge, channel=self.channel_json(leg))
        self.notify()
        return web.Response(status=204)

    def end_snoops(self, leg: Leg) -> None:
        """A snoop channel hung up; or a spied channel went away: its snoops hang up."""
        self.snoops.pop(leg.id, None)
        for sid, (spied, _, _) in list(self.snoops.items()):
            if spied == leg.id:
                del self.snoops[sid]
                snoop = self.legs.get(sid)
                if snoop is not None:
                    asyncio.get_running_loop().call_soon(self.end, snoop, 16)

    def hearing(self, channel_id: str) -> set[str]:
        """Who the supervisor on ``channel_id`` is heard by: the legs in its bridge, or the
        channel a snoop in its bridge whispers to."""
        heard: set[str] = set()
        leg = self.legs.get(channel_id)
        bridge = self.bridges.get(leg.bridge or "") if leg else None
        for other in bridge["channels"] if bridge else []:
            if other in self.snoops:
                spied, _, whisper = self.snoops[other]
                if whisper != "none":
                    heard.add(spied)
            elif other != channel_id:
                heard.add(other)
        return heard
