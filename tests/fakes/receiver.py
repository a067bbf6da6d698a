"""A reference webhook receiver: verifies signatures, refuses replays, applies each event
once (by event id). The tests and the benchmark run it on 127.0.0.1; CRM developers can
read it as a worked example of ``docs/webhooks.md``.

``respond`` decides the answer to a correctly signed request (default 200); tests and the
benchmark use it to fail on purpose, answer slowly or ask for ``Retry-After``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dialer.webhooks import signing

Respond = Callable[[dict[str, Any]], Awaitable[web.Response | int]]


@dataclass
class Arrival:
    """One request as it arrived, and the status it was answered with."""

    event_id: str | None
    event_type: str | None
    status: int
    headers: dict[str, str]
    body: bytes
    at: float  # receiver's monotonic time


@dataclass
class Receiver:
    secret: str
    now: Callable[[], float] = time.time  # Unix time the signature is checked against
    tolerance_s: float = signing.DEFAULT_TOLERANCE_S
    respond: Respond | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # applied, once each
    order: list[str] = field(default_factory=list)  # event ids in the order applied
    duplicates: int = 0
    _runner: web.AppRunner | None = None
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # the raw bytes: verify before parsing
        event_id = request.headers.get(signing.EVENT_ID_HEADER)
        event_type = request.headers.get(signing.EVENT_TYPE_HEADER)
        try:
            signing.verify(
                self.secret,
                request.headers.get(signing.SIGNATURE_HEADER),
                body,
                now=self.now(),
                tolerance_s=self.tolerance_s,
            )
        except signing.SignatureError as exc:
            self._arrived(event_id, event_type, 401, request, body)
            return web.json_response({"error": str(exc)}, status=401)
        event = json.loads(body)
        answer = await self.respond(event) if self.respond is not None else 200
        response = answer if isinstance(answer, web.Response) else web.Response(status=answer)
        self._arrived(event_id, event_type, response.status, request, body)
        if 200 <= response.status < 300:
            if event["id"] in self.events:
                self.duplicates += 1  # already applied: acknowledge, do nothing
            else:
                self.events[event["id"]] = event
                self.order.append(event["id"])
        return response

    def _arrived(
        self,
        event_id: str | None,
        event_type: str | None,
        status: int,
        request: web.Request,
        body: bytes,
    ) -> None:
        self.arrivals.append(
            Arrival(event_id, event_type, status, dict(request.headers), body, time.monotonic())
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (an ephemeral port by default); return the URL to subscribe."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}/hooks"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
