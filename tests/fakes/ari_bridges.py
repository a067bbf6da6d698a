"""The fake Asterisk's transfer and conference routes, as ARI documents them
(ari_api_docs/bridges.json, channels.json): removing a channel from a bridge, and music on
hold on a channel. Error codes and reasons are the documented ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.calls import Leg


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


class BridgesMixin:
    """Mixed into ``FakeAsterisk`` (uses its legs, bridges and events)."""

    legs: dict[str, Leg]
    bridges: dict[str, dict[str, Any]]

    def bridge_routes(self, r: web.UrlDispatcher) -> None:
        self.moh: set[str] = set()  # channels hearing music on hold
        r.add_post("/ari/bridges/{id}/removeChannel", self._remove_channel)
        r.add_post("/ari/channels/{id}/moh", self._start_moh)
        r.add_delete("/ari/channels/{id}/moh", self._stop_moh)

    if TYPE_CHECKING:

        def emit(self, leg: Leg, kind: str, **fields: Any) -> None: ...

        def channel_json(self, leg: Leg) -> dict[str, Any]: ...

        def notify(self) -> None: ...

    async def _remove_channel(self, request: web.Request) -> web.Response:
        bridge = self.bridges.get(request.match_info["id"])
        if bridge is None:
            return _error(404, "Bridge not found")
        channels = request.query.get("channel", "").split(",")
        legs = [self.legs.get(cid) for cid in channels]
        if any(leg is None for leg in legs):
            return _error(400, "Channel not found")
        if any(cid not in bridge["channels"] for cid in channels):
            return _error(422, "Channel not in this bridge")
        for leg in legs:
            assert leg is not None
            bridge["channels"].remove(leg.id)
            leg.bridge = None
            self.emit(leg, "ChannelLeftBridge", bridge=bridge, channel=self.channel_json(leg))
        self.notify()
        return web.Response(status=204)

    def _stasis_leg(self, request: web.Request) -> Leg | web.Response:
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return _error(404, "Channel not found")
        if not leg.in_stasis:
            return _error(409, "Channel not in a Stasis application")
        return leg

    async def _start_moh(self, request: web.Request) -> web.Response:
        leg = self._stasis_leg(request)
        if isinstance(leg, web.Response):
            return leg
        self.moh.add(leg.id)
        self.notify()
        return web.Response(status=204)

    async def _stop_moh(self, request: web.Request) -> web.Response:
        leg = self._stasis_leg(request)
        if isinstance(leg, web.Response):
            return leg
        self.moh.discard(leg.id)
        self.notify()
        return web.Response(status=204)
