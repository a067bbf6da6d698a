"""The fake Asterisk's recordings (res_ari_recordings, res_stasis_recording): ``record`` on a
channel or a bridge, ``RecordingStarted``/``RecordingFinished``, and the stored files.

A recording runs until a channel it records hangs up (a bridge's: any of its channels
then); its file is a small WAV as long as it ran (in switch seconds), kept under
``stored`` until ``DELETE /recordings/stored/{name}``.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Json = dict[str, Any]


def wav(seconds: float, rate: int = 8000) -> bytes:
    frames = bytes([128]) * int(seconds * rate)
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + b"data" + struct.pack("<I", len(frames)) + frames


@dataclass
class Live:
    name: str
    target_uri: str
    app: str
    legs: set[str]
    started: float
    json: Json = field(default_factory=dict)


class RecordingsMixin:
    """Mixed into ``FakeAsterisk`` (uses its legs, bridges, emit and time scale)."""

    legs: dict[str, Any]
    bridges: dict[str, Json]
    time_scale: float

    def init_recordings(self) -> None:
        self.live: dict[str, Live] = {}
        self.stored: dict[str, bytes] = {}

    def recording_routes(self, r: web.UrlDispatcher) -> None:
        r.add_post("/ari/channels/{id}/record", self._record_channel)
        r.add_post("/ari/bridges/{id}/record", self._record_bridge)
        r.add_get("/ari/recordings/stored/{name}/file", self._stored_file)
        r.add_delete("/ari/recordings/stored/{name}", self._delete_stored)
        r.add_delete("/ari/recordings/live/{name}", self._cancel_live)

    def emit_to(self, app: str, kind: str, **fields: Any) -> None:
        raise NotImplementedError

    async def _record_channel(self, request: web.Request) -> web.Response:
        leg = self.legs.get(request.match_info["id"])
        if leg is None:
            return web.json_response({"message": "Channel not found"}, status=404)
        if not leg.in_stasis:
            return web.json_response({"message": "Channel not in Stasis application"}, status=409)
        return self._start(request, f"channel:{leg.id}", leg.app, {leg.id})

    async def _record_bridge(self, request: web.Request) -> web.Response:
        bridge = self.bridges.get(request.match_info["id"])
        if bridge is None:
            return web.json_response({"message": "Bridge not found"}, status=404)
        apps = {self.legs[c].app for c in bridge["channels"] if c in self.legs}
        app = next(iter(apps), "")
        return self._start(request, f"bridge:{bridge['id']}", app, set(bridge["channels"]))

    def _start(self, request: web.Request, target: str, app: str, legs: set[str]) -> web.Response:
        q = request.query
        name, fmt = q["name"], q["format"]
        if fmt != "wav":
            return web.json_response({"message": "Recording format not supported"}, status=422)
        if name in self.live or (name in self.stored and q.get("ifExists") != "overwrite"):
            return web.json_response({"message": "Recording with name already exists"}, status=409)
        data = {"name": name, "format": fmt, "target_uri": target, "state": "recording"}
        loop = asyncio.get_running_loop()
        self.live[name] = Live(name, target, app, legs, loop.time(), data)
        self.emit_to(app, "RecordingStarted", recording=data)
        return web.json_response(data, status=201)

    def end_recordings(self, leg_id: str) -> None:
        """``leg_id`` hung up: the recordings of it (or of its bridge) finish."""
        for live in [x for x in self.live.values() if leg_id in x.legs]:
            del self.live[live.name]
            seconds = (asyncio.get_running_loop().time() - live.started) / self.time_scale
            self.stored[live.name] = wav(min(seconds, 30.0) / 100)  # a short file will do
            done = {**live.json, "state": "done", "duration": int(seconds)}
            self.emit_to(live.app, "RecordingFinished", recording=done)

    async def _stored_file(self, request: web.Request) -> web.Response:
        data = self.stored.get(request.match_info["name"])
        if data is None:
            return web.json_response({"message": "Recording not found"}, status=404)
        return web.Response(body=data, content_type="audio/wav")

    async def _cancel_live(self, request: web.Request) -> web.Response:
        """``DELETE /recordings/live/{name}`` (recordings.json cancel): stop and discard;
        404 "Recording not found" when it is not live."""
        if self.live.pop(request.match_info["name"], None) is None:
            return web.json_response({"message": "Recording not found"}, status=404)
        return web.Response(status=204)

    async def _delete_stored(self, request: web.Request) -> web.Response:
        if self.stored.pop(request.match_info["name"], None) is None:
            return web.json_response({"message": "Recording not found"}, status=404)
        return web.Response(status=204)
