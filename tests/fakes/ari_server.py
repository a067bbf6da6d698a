"""A fake Asterisk: the subset of ARI the dialer uses, over real HTTP and a real WebSocket.

Routes, status codes, error bodies (``{"message": ...}``) and event JSON follow Asterisk's
``rest-api/api-docs`` (channels.json, bridges.json, events.json) and what ``res_ari``
actually sends: a ``Channel`` snapshot with ``id``, ``name``, ``state``, ``caller``,
``connected``, ``dialplan`` (context/exten/priority/app_name/app_data), ``creationtime``;
events wrapped with ``type``, ``timestamp``, ``asterisk_id`` and ``application``.

Behaviour per call comes from ``scenarios.script_for`` (the dialled number's last digits):
ring, answer into ``Stasis(app, dial)``, ``continue`` into the ``dialer-amd`` context where
``AMD()`` sets ``AMDSTATUS``/``AMDCAUSE`` (``ChannelVarset``) and returns with
``Stasis(${DIALER_APP}, amd)``; busy/no-answer/congestion end with ``ChannelDestroyed``
and their Q.850 cause. ``stop()``/``restart()`` act like Asterisk going down: every channel
vanishes and every WebSocket closes. ``drop_websockets()`` is a network blip: channels
live on and events sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.ari_bridges import BridgesMixin
from tests.fakes.ari_inbound import AriInboundMixin
from tests.fakes.ari_json import bridge_json, channel_json, envelope
from tests.fakes.ari_recordings import RecordingsMixin
from tests.fakes.ari_snoop import SnoopMixin
from tests.fakes.ari_spec import ari_spec
from tests.fakes.ast_causes import ast_cause_for_sip
from tests.fakes.calls import FakeSwitchBase, Leg, ts
from tests.fakes.scenarios import CAUSE_TEXT, agent_script, script_for

HANGUP_REASONS = {"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "rejected": 21}
DIALSTATUS = {17: "BUSY", 19: "NOANSWER", 18: "NOANSWER", 34: "CONGESTION", 1: "CHANUNAVAIL"}
Json = dict[str, Any]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


class FakeAsterisk(SnoopMixin, AriInboundMixin, BridgesMixin, RecordingsMixin, FakeSwitchBase):
    """ARI over HTTP on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        user: str = "dialer",
        password: str = "s3cret-pw",
        time_scale: float = 0.01,
        channelvars: tuple[str, ...] = (),
        sounds: frozenset[str] = frozenset({"sound:dialer/safe-harbor", "sound:hello-world"}),
        contexts: frozenset[str] = frozenset({"dialer-amd", "dialer-beep"}),
    ) -> None:
        super().__init__(time_scale=time_scale)
        self.user, self.password = user, password
        self.channelvars = channelvars
        self.sounds = sounds
        self.contexts = contexts
        self.asterisk_id = "08:00:27:d4:1a:01"
        self.bridges: dict[str, Json] = {}
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self._queues: dict[str, asyncio.Queue[Json | None]] = {}
        self._names = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.refuse_events = False  # while True, event WebSockets are turned away (HTTP 503)
        self.trunks = {"trunk"}  # PJSIP endpoints a callee can be dialled through
        self.spec_errors: list[str] = []  # requests the real ARI would not accept
        self.replaced: list[web.WebSocketResponse] = []  # sockets another took the app from
        self.init_recordings()
        self.init_snoops()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ari"

    # -- server lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/ari/events", self._events)
        r.add_get("/ari/channels", self._list_channels)
        r.add_post("/ari/channels/{id}", self._originate)
        r.add_get("/ari/channels/{id}", self._get_channel)
        r.add_delete("/ari/channels/{id}", self._delete_channel)
        r.add_post("/ari/channels/{id}/continue", self._continue)
        r.add_post("/ari/channels/{id}/answer", self._answer_channel)
        r.add_get("/ari/channels/{id}/variable", self._get_variable)
        r.add_post("/ari/channels/{id}/variable", self._set_variable)
        r.add_post("/ari/channels/{id}/play/{playback}", self._play)
        r.add_get("/ari/bridges", self._list_bridges)
        r.add_post("/ari/bridges/{id}", self._create_bridge)
        r.add_post("/ari/bridges/{id}/addChannel", self._add_channel)
        r.add_post("/ari/bridges/{id}/removeChannel", self._remove_channel)
        r.add_post("/ari/channels/{id}/snoop", self._snoop)
        r.add_delete("/ari/bridges/{id}", self._destroy_bridge)
        self.recording_routes(r)
        self.bridge_routes(r)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.notify()

    async def stop(self) -> None:
        """Asterisk goes down: channels vanish without events, sockets close.

        Fails the test if any request broke the official ARI definitions (``ari_spec``)."""
        self.wipe()
        self.bridges.clear()
        await self.drop_websockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        errors, self.spec_errors = self.spec_errors, []
        assert not errors, f"requests the real ARI does not define: {errors}"

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def drop_websockets(self) -> None:
        for ws in [*self.sockets.values(), *self.replaced]:
            await ws.close()
        self.sockets.clear()
        self.replaced.clear()

    # -- HTTP plumbing --------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> Any:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _error(401, "Authentication required")
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, request.path, dict(request.query), body))
        problems = ari_spec().check(
            request.method, request.path.removeprefix("/ari"), dict(request.query), body
        )
        if problems:
            self.spec_errors += problems
            return _error(400, "; ".join(problems))
        return await handler(request)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        app = request.query.get("app")
        if not app:
            return _error(400, "Missing params: app")
        if self.refuse_events:
            return _error(503, "Service Unavailable")
        ws = web.WebSocketResponse(protocols=("ari",))
        await ws.prepare(request)
        old = self.sockets.pop(app, None)
        if old is not None:  # app_update(): told, but left open (res/stasis/app.c)
            await old.send_json(self._event(app, "ApplicationReplaced"))
            self.replaced.append(old)
        queue: asyncio.Queue[Json | None] = asyncio.Queue()
        self.sockets[app], self._queues[app] = ws, queue
        pump = asyncio.get_running_loop().create_task(self._pump(ws, queue))
        self.connections += 1
        self.notify()
        try:
            async for _ in ws:
                pass
        finally:
            pump.cancel()
            if self.sockets.get(app) is ws:
                del self.sockets[app]
                self._queues.pop(app, None)
            self.notify()
        return ws

    @staticmethod
    async def _pump(ws: web.WebSocketResponse, queue: asyncio.Queue[Json | None]) -> None:
        while True:
            event = await queue.get()
            if event is None or ws.closed:
                return
            await ws.send_json(event)

    def _event(self, app: str, kind: str, **fields: Any) -> Json:
        return envelope(app, kind, self.asterisk_id, **fields)

    def emit(self, leg: Leg, kind: str, **fields: Any) -> None:
        """Send an event about ``leg`` to its application (lost when none is connected)."""
        self.emit_to(leg.app, kind, **fields)

    def emit_to(self, app: str, kind: str, **fields: Any) -> None:
        queue = self._queues.get(app)
        event = self._event(app, kind, **fields)
        self.sent.append(event)
        if queue is not None:
            queue.put_nowait(event)

    def channel_json(self, leg: Leg) -> Json:
        return channel_json(leg, self.channelvars)

    # -- REST: channels -------------------------------------------------------------------
    async def _list_channels(self, request: web.Request) -> web.Response:
        return web.json_response([self.channel_json(leg) for leg in self.legs.values()])

    async def _get_channel(self, request: web.Request) -> web.Response:
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return _error(404, "Channel not found")
        return web.json_response(self.channel_json(leg))

    async def _originate(self, request: web.Request) -> web.Response:
        cid, q = request.match_info["id"], request.query
        endpoint = q.get("endpoint", "")
        tech, _, resource = endpoint.partition("/")
        if not tech or not resource:
            return _error(400, "Invalid endpoint specified")
        if not q.get("app"):
            return _error(400, "Application or extension must be specified")
        if cid in self.legs:
            return _error(409, "Channel with given unique ID already exists")
        body = await request.json() if request.can_read_body else {}
        variables = {
            k: (v["value"] if isinstance(v, dict) else str(v))
            for k, v in (body or {}).get("variables", {}).items()
        }
        callee = "@" in resource
        if callee and resource.split("@")[-1] not in self.trunks:  # ast_dial_prerun failed
            return web.json_response({"error": "Allocation failed"}, status=500)
        name = f"{tech}/{resource.split('@')[-1]}-{next(self._names):08x}"
        leg = Leg(
            id=cid,
            name=name,
            app=q["app"],
            app_args=q.get("appArgs", ""),
            endpoint=endpoint,
            caller=q.get("callerId", ""),
            script=script_for(resource) if callee else agent_script(endpoint),
            variables=variables,
            timeout_s=float(q.get("timeout", "30")),
            callee=callee,
            created=ts(),
        )
        self.legs[cid] = leg
        self.dial(leg)
        return web.json_response(self.channel_json(leg))

    async def _delete_channel(self, request: web.Request) -> web.Response:
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return _error(404, "Channel not found")
        reason = request.query.get("reason", "normal")
        if reason not in HANGUP_REASONS:
            return _error(400, "Invalid reason for hangup provided")
        cause = HANGUP_REASONS[reason]
        self.emit(leg, "ChannelHangupRequest", cause=cause, channel=self.channel_json(leg))
        asyncio.get_running_loop().call_soon(self.end, leg, cause)
        return web.Response(status=204)

    async def _continue(self, request: web.Request) -> web.Response:
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return _error(404, "Channel not found")
        if not leg.in_stasis:
            return _error(409, "Channel not in Stasis application")
        q = request.query
        self.leave_stasis(leg)
        leg.context, leg.exten = q.get("context", leg.context), q.get("extension", "s")
        leg.priority = int(q.get("priority", "1"))
        if leg.context not in self.contexts:  # no such extension: the PBX hangs up
            asyncio.get_running_loop().call_soon(self.end, leg, 16)
        elif leg.context == "dialer-beep":
            self.wait_for_silence(leg)
        else:
            leg.app_name, leg.app_data = "AMD", ""
            self.at(leg, leg.script.amd_s, lambda: self.amd_done(leg))
        return web.Response(status=204)

    async def _set_variable(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/variable`` (channels.json setChannelVar)."""
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return _error(404, "Channel not found")
        if not leg.in_stasis:
            return _error(409, "Channel not in a Stasis application")
        name = request.query.get("variable")
        if not name:
            return _error(400, "Variable name is required")
        leg.variables[name] = request.query.get("value", "")
        return web.Response(status=204)

    def wait_for_silence(self, leg: Leg) -> None:
        """``dialer-beep``: ``WaitForSilence(1000,1,${DIALER_BEEP_TIMEOUT})`` then
        ``Stasis(${DIALER_APP},beep)``. app_waitforsilence.c sets WAITSTATUS to SILENCE
        once 1 s of silence follows the beep, or TIMEOUT after the timeout (seconds)."""
        leg.app_name, leg.app_data = "WaitForSilence", "1000,1,${DIALER_BEEP_TIMEOUT}"
        timeout = float(leg.variables.get("DIALER_BEEP_TIMEOUT") or 0) or 1e9
        beep = leg.script.beep_s
        silent = beep is not None and beep + 1.0 <= timeout
        assert beep is not None or not silent

        def done() -> None:
            status = "SILENCE" if silent else "TIMEOUT"
            leg.variables["WAITSTATUS"] = status
            channel = self.channel_json(leg)
            self.emit(leg, "ChannelVarset", variable="WAITSTATUS", value=status, channel=channel)
            self.enter_stasis(leg, leg.variables.get("DIALER_APP", leg.app), ["beep"])

        self.at(leg, beep + 1.0 if silent and beep is not None else timeout, done)

    async def _get_variable(self, request: web.Request) -> web.Response:
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return _error(404, "Provided channel was not found")
        name = request.query.get("variable")
        if not name:
            return _error(400, "Variable name is required")
        if name not in leg.variables:
            return _error(404, "Provided variable was not found")
        return web.json_response({"value": leg.variables[name]})

    async def _play(self, request: web.Request) -> web.Response:
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return _error(404, "Channel not found")
        if not leg.in_stasis:
            return _error(409, "Channel not in Stasis application")
        media = request.query.get("media")
        if not media:
            return _error(400, "Missing params: media")
        playback = {
            "id": request.match_info["playback"],
            "media_uri": media,
            "target_uri": f"channel:{leg.id}",
            "language": "en",
            "state": "queued",
        }
        self.at(
            leg,
            0.0,
            lambda: self.emit(leg, "PlaybackStarted", playback={**playback, "state": "playing"}),
        )
        final = "done" if media in self.sounds else "failed"
        delay = self.play_s if final == "done" else 0.0
        self.at(
            leg,
            delay,
            lambda: self.emit(leg, "PlaybackFinished", playback={**playback, "state": final}),
        )
        self.played.append((leg.id, media))
        return web.json_response(playback, status=201)

    # -- REST: bridges --------------------------------------------------------------------
    async def _list_bridges(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.bridges.values()))

    async def _create_bridge(self, request: web.Request) -> web.Response:
        bid = request.match_info["id"]
        if bid in self.bridges:
            return _error(409, "Bridge with id already exists")
        query = request.query
        self.bridges[bid] = bridge_json(bid, query.get("type", "mixing"), query.get("name", ""))
        self.notify()
        return web.json_response(self.bridges[bid])

    async def _add_channel(self, request: web.Request) -> web.Response:
        bridge = self.bridges.get(request.match_info["id"])
        if bridge is None:
            return _error(404, "Bridge not found")
        legs = []
        for cid in request.query.get("channel", "").split(","):
            leg = self.legs.get(cid)
            if leg is None:
                return _error(400, "Channel not found")
            if not leg.in_stasis:
                return _error(422, "Channel not in Stasis application")
            legs.append(leg)
        for leg in legs:
            leg.bridge = bridge["id"]
            bridge["channels"].append(leg.id)
            self.emit(leg, "ChannelEnteredBridge", bridge=bridge, channel=self.channel_json(leg))
            if leg.callee:
                self.at(leg, leg.script.talk_s, functools.partial(self.end, leg, 16))
        self.notify()
        return web.Response(status=204)

    async def _destroy_bridge(self, request: web.Request) -> web.Response:
        bridge = self.bridges.pop(request.match_info["id"], None)
        if bridge is None:
            return _error(404, "Bridge not found")
        for cid in bridge["channels"]:
            if cid in self.legs:
                self.legs[cid].bridge = None
        self.notify()
        return web.Response(status=204)

    # -- what the switch does -------------------------------------------------------------
    def on_ring(self, leg: Leg) -> None:
        """SIP 180 sets the channel state to Ringing; SIP 183 (early media) does not, and
        only a ``Dial`` with ``PROGRESS`` tells (chan_pjsip, main/dial.c)."""
        if leg.script.early_media:
            leg.state = "Down"
            status = "PROGRESS"
        else:
            self.emit(leg, "ChannelStateChange", channel=self.channel_json(leg))
            status = "RINGING"
        self.emit(
            leg, "Dial", peer=self.channel_json(leg), dialstring=leg.endpoint, dialstatus=status
        )

    def on_answer(self, leg: Leg) -> None:
        self.emit(leg, "ChannelStateChange", channel=self.channel_json(leg))
        self.emit(
            leg, "Dial", peer=self.channel_json(leg), dialstring=leg.endpoint, dialstatus="ANSWER"
        )
        self.enter_stasis(leg, leg.app, leg.app_args.split(",") if leg.app_args else [])

    def enter_stasis(self, leg: Leg, app: str, args: list[str]) -> None:
        leg.in_stasis, leg.app_name, leg.app_data = True, "Stasis", ",".join([app, *args])
        self.emit(leg, "StasisStart", args=args, channel=self.channel_json(leg))

    def leave_stasis(self, leg: Leg) -> None:
        if leg.in_stasis:
            leg.in_stasis = False
            self.emit(leg, "StasisEnd", channel=self.channel_json(leg))

    def on_dtmf(self, leg: Leg, digit: str, duration_ms: int) -> None:
        """``ChannelDtmfReceived`` (events.json: digit, duration_ms, channel) goes to the
        application the channel is in; a channel running dialplan (AMD) is in none."""
        if leg.in_stasis:
            self.emit(
                leg,
                "ChannelDtmfReceived",
                digit=digit,
                duration_ms=duration_ms,
                channel=self.channel_json(leg),
            )

    def amd_done(self, leg: Leg) -> None:
        for name, value in (("AMDSTATUS", leg.script.amd), ("AMDCAUSE", leg.script.amd_cause)):
            leg.variables[name] = value
            self.emit(
                leg, "ChannelVarset", variable=name, value=value, channel=self.channel_json(leg)
            )
        if leg.script.amd == "HANGUP":
            self.end(leg, 16)
        else:
            self.enter_stasis(leg, leg.variables.get("DIALER_APP", leg.app), ["amd"])

    def on_end(self, leg: Leg, cause: int, sip: int | None = None) -> None:
        if sip is not None:
            cause = ast_cause_for_sip(sip)
        self.end_recordings(leg.id)
        self.end_snoops(leg)
        self.leave_stasis(leg)
        if leg.bridge and leg.bridge in self.bridges:
            bridge = self.bridges[leg.bridge]
            bridge["channels"].remove(leg.id)
            self.emit(leg, "ChannelLeftBridge", bridge=bridge, channel=self.channel_json(leg))
        if not leg.answered:
            status = DIALSTATUS.get(cause, "CANCEL")
            self.emit(
                leg, "Dial", peer=self.channel_json(leg), dialstring=leg.endpoint, dialstatus=status
            )
        text = CAUSE_TEXT.get(cause, "Unknown")
        extra = {"tech_cause": sip} if sip is not None else {}
        self.emit(
            leg,
            "ChannelDestroyed",
            cause=cause,
            cause_txt=text,
            **extra,
            channel=self.channel_json(leg),
        )

    # -- test helpers ---------------------------------------------------------------------
    def add_stray(self, cid: str, *, app_var: str, in_stasis_of: str | None = None) -> Leg:
        """A live channel nobody in the dialer knows (left over from a crashed process)."""
        leg = Leg(
            id=cid,
            name=f"PJSIP/trunk-{next(self._names):08x}",
            app=in_stasis_of or "",
            app_args="dial",
            endpoint="PJSIP/+15550109999@trunk",
            caller="+15550000000",
            script=script_for("+15550109999"),
            variables={"DIALER_APP": app_var},
            timeout_s=30.0,
            callee=True,
            created=ts(),
            state="Up",
            answered=True,
        )
        if in_stasis_of:
            leg.in_stasis, leg.app_name, leg.app_data = True, "Stasis", f"{in_stasis_of},dial"
        else:
            leg.context, leg.app_name, leg.app_data = "dialer-amd", "AMD", ""
        self.legs[cid] = leg
        return leg
