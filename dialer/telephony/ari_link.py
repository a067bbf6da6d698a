"""The connection to Asterisk's REST Interface: REST requests and the events WebSocket.

``AriLink`` keeps one WebSocket open to ``/events?app=<app>`` and reconnects with backoff
when Asterisk restarts or the network drops. After every connection it runs the
gateway's reconcile step while events already flow, and only then reports itself
``ready``: calls are placed only when the dialer's view of the switch is whole again.
Credentials go in an ``Authorization`` header, never in a URL, and are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from dialer.backoff import Backoff, StateLog
from dialer.config import Secret
from dialer.gateway import GatewayError, GatewayUnavailable

log = logging.getLogger("dialer.telephony.ari")

Message = dict[str, Any]
REQUEST_TIMEOUT_S = 10.0
HEARTBEAT_S = 20.0


def seg(value: str) -> str:
    """One path segment (a channel, bridge or playback id), percent-encoded."""
    return quote(value, safe="")


class AriLink:
    """REST calls and the event stream of one ARI application (see the module docstring)."""

    def __init__(
        self,
        *,
        url: str,
        user: str,
        password: Secret,
        app: str,
        on_message: Callable[[Message], None],
        on_connect: Callable[[], Awaitable[None]],
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.url = url.rstrip("/")
        self.app = app
        token = base64.b64encode(f"{user}:{password.reveal()}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}"}
        self._user = user
        self._on_message = on_message
        self._on_connect = on_connect
        self.backoff = backoff
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.ready = asyncio.Event()
        self.connections = 0
        self._state = StateLog(log, gateway="ari", url=self.url, app=app)

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._session = aiohttp.ClientSession(headers=self._headers)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ari-link")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.ready.clear()

    async def drop(self) -> None:
        """Close the WebSocket (as a network failure would); the link reconnects."""
        if self._ws is not None:
            await self._ws.close()

    # -- REST -----------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """(HTTP status, decoded body). ``GatewayError`` when Asterisk cannot be reached."""
        if self._session is None:
            raise GatewayUnavailable("not connected to Asterisk")
        try:
            async with self._session.request(
                method,
                self.url + path,
                params=params,
                json=body,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as resp:
                text = await resp.text()
                data: Any = None
                if text and resp.content_type == "application/json":
                    data = json.loads(text)
                elif text:
                    data = {"message": text.strip()}
                return resp.status, data
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise GatewayUnavailable(f"Asterisk did not answer {method} {path}: {exc!r}") from None

    async def fetch_bytes(self, path: str) -> tuple[int, bytes]:
        """(HTTP status, body) of a GET whose body is a file (a stored recording)."""
        if self._session is None:
            raise GatewayUnavailable("not connected to Asterisk")
        try:
            async with self._session.get(
                self.url + path, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S * 6)
            ) as resp:
                return resp.status, await resp.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise GatewayUnavailable(f"Asterisk did not answer GET {path}: {exc!r}") from None

    # -- events ---------------------------------------------------------------------------
    async def _run(self) -> None:
        assert self._session is not None
        ws_url = "ws" + self.url[len("http") :] + "/events"
        while True:
            try:
                ws = await self._session.ws_connect(
                    ws_url,
                    params={"app": self.app, "subscribeAll": "false"},
                    heartbeat=HEARTBEAT_S,
                )
            except aiohttp.WSServerHandshakeError as exc:
                self._refused(exc.status)
                await self._sleep(self.backoff.next_delay())
                continue
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                self._state.enter(
                    "down",
                    logging.WARNING,
                    "Asterisk ARI unreachable (%s); retrying",
                    type(exc).__name__,
                )
                await self._sleep(self.backoff.next_delay())
                continue
            self.backoff.reset()
            self.connections += 1
            self._ws = ws
            try:
                await self._serve(ws)
            finally:
                self._ws = None
                self.ready.clear()
                await ws.close()
            self._state.enter("down", logging.WARNING, "lost the ARI connection; reconnecting")
            await self._sleep(self.backoff.next_delay())

    def _refused(self, status: int) -> None:
        if status == 401:
            self._state.enter(
                "refused",
                logging.ERROR,
                "Asterisk refused ARI user %r: check DIALER_ARI_USER/DIALER_ARI_PASSWORD "
                "against ari.conf",
                self._user,
            )
        else:
            self._state.enter("down", logging.WARNING, "ARI WebSocket refused (HTTP %s)", status)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read events while the reconcile step runs; ready once it has succeeded."""
        reconcile = asyncio.get_running_loop().create_task(self._reconcile(ws))
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    try:
                        self._on_message(json.loads(msg.data))
                    except Exception:
                        log.exception("could not handle an ARI event")
                elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                    break
        finally:
            reconcile.cancel()
            await asyncio.gather(reconcile, return_exceptions=True)

    async def _reconcile(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            await self._on_connect()
        except GatewayError as exc:
            log.warning("ARI reconcile failed: %s", exc, extra={"gateway": "ari"})
            await ws.close()
            return
        except Exception:
            log.exception("ARI reconcile failed", extra={"gateway": "ari"})
            await ws.close()
            return
        self.ready.set()
        self._state.enter("up", logging.INFO, "connected to Asterisk ARI")
