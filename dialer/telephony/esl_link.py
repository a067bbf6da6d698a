"""FreeSWITCH's event socket, inbound mode: framing, authentication, commands and events.

The wire format (mod_event_socket): every message is a block of ``Name: value`` lines
ended by an empty line, followed by ``Content-Length`` bytes of body when that header is
present. On connect FreeSWITCH sends ``Content-Type: auth/request``; we answer
``auth <password>``. Commands get their replies in order: ``command/reply`` (with
``Reply-Text``) for ``auth``, ``event`` and ``bgapi``, ``api/response`` (the output as body)
for ``api``. Events arrive between replies as ``text/event-plain``: the body is itself a
header block whose values are URL-encoded, with an optional body of its own
(``BACKGROUND_JOB`` carries the job's output there).

``EslLink`` keeps that connection, reconnects with backoff, runs the gateway's reconcile
step after each connection (with events already flowing) and only then is ``ready``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from dialer.backoff import Backoff, StateLog
from dialer.config import Secret
from dialer.gateway import GatewayError, GatewayUnavailable

log = logging.getLogger("dialer.telephony.esl")

Headers = dict[str, str]
REPLY_TIMEOUT_S = 10.0


class EslRefused(GatewayError):
    """FreeSWITCH turned us away (wrong password, or an ACL)."""


async def read_frame(reader: asyncio.StreamReader) -> tuple[Headers, str]:
    """One message: its headers and its body (``ConnectionError`` at end of stream)."""
    headers: Headers = {}
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("the event socket closed")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if headers:
                break
            continue
        name, _, value = text.partition(":")
        headers[name.strip()] = value.strip()
    length = int(headers.get("Content-Length", "0") or 0)
    body = (await reader.readexactly(length)).decode("utf-8", "replace") if length else ""
    return headers, body


def parse_event(body: str) -> tuple[Headers, str]:
    """A ``text/event-plain`` body: URL-decoded headers, and the event's own body."""
    head, _, rest = body.partition("\n\n")
    headers: Headers = {}
    for line in head.splitlines():
        name, _, value = line.partition(": ")
        if name:
            headers[name] = unquote(value)
    length = int(headers.get("Content-Length", "0") or 0)
    return headers, rest[:length] if length else ""


class EslLink:
    """One authenticated event-socket connection (see the module docstring)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        password: Secret,
        events: str,
        on_event: Callable[[Headers, str], None],
        on_connect: Callable[[], Awaitable[None]],
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.host, self.port = host, port
        self._password = password
        self._events = events
        self._on_event = on_event
        self._on_connect = on_connect
        self.backoff = backoff
        self._sleep = sleep
        self._writer: asyncio.StreamWriter | None = None
        self._pending: deque[asyncio.Future[tuple[Headers, str]]] = deque()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.connections = 0
        self._state = StateLog(log, gateway="esl", host=host, port=port)

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="esl-link")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.ready.clear()

    async def drop(self) -> None:
        """Close the socket (as a network failure would); the link reconnects."""
        if self._writer is not None:
            self._writer.close()

    # -- commands -------------------------------------------------------------------------
    async def api(self, command: str) -> str:
        """Run an ``api`` command; its output (``+OK ...``, ``-ERR ...`` or data)."""
        _, body = await self._send(f"api {command}")
        return body

    async def bgapi(self, command: str, job_uuid: str) -> str:
        """Start a background job; the ``Reply-Text`` (its result comes as an event)."""
        headers, _ = await self._send(f"bgapi {command}\nJob-UUID: {job_uuid}")
        return headers.get("Reply-Text", "")

    async def _send(self, text: str) -> tuple[Headers, str]:
        writer = self._writer
        if writer is None or writer.is_closing():
            raise GatewayUnavailable("not connected to FreeSWITCH")
        reply: asyncio.Future[tuple[Headers, str]] = asyncio.get_running_loop().create_future()
        writer.write(f"{text}\n\n".encode())
        self._pending.append(reply)  # replies come back in the order commands went out
        try:
            return await asyncio.wait_for(asyncio.shield(reply), REPLY_TIMEOUT_S)
        except TimeoutError:
            raise GatewayUnavailable(f"FreeSWITCH did not answer {text.split()[:2]}") from None

    # -- connection -----------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                self._state.enter(
                    "down",
                    logging.WARNING,
                    "FreeSWITCH unreachable (%s); retrying",
                    type(exc).__name__,
                )
                await self._sleep(self.backoff.next_delay())
                continue
            try:
                await self._login(reader, writer)
                self.backoff.reset()
                self.connections += 1
                self._writer = writer
                await self._serve(reader)
            except EslRefused as exc:
                self._state.enter("refused", logging.ERROR, "%s", exc)
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                pass
            finally:
                self._writer = None
                self.ready.clear()
                writer.close()
                self._fail_pending()
            if self._state.state != "refused":
                self._state.enter(
                    "down", logging.WARNING, "lost the FreeSWITCH connection; reconnecting"
                )
            await self._sleep(self.backoff.next_delay())

    async def _login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers, body = await asyncio.wait_for(read_frame(reader), REPLY_TIMEOUT_S)
        if headers.get("Content-Type") == "text/rude-rejection":
            raise EslRefused(f"FreeSWITCH refused the connection: {body.strip()} (check its ACL)")
        if headers.get("Content-Type") != "auth/request":
            raise ConnectionError("FreeSWITCH did not ask for authentication")
        writer.write(f"auth {self._password.reveal()}\n\n".encode())
        headers, _ = await asyncio.wait_for(read_frame(reader), REPLY_TIMEOUT_S)
        if not headers.get("Reply-Text", "").startswith("+OK"):
            raise EslRefused(
                "FreeSWITCH rejected the event socket password: check DIALER_ESL_PASSWORD "
                "against event_socket.conf.xml"
            )
        writer.write(f"event plain {self._events}\n\n".encode())
        headers, _ = await asyncio.wait_for(read_frame(reader), REPLY_TIMEOUT_S)
        if not headers.get("Reply-Text", "").startswith("+OK"):
            raise ConnectionError(f"event subscription refused: {headers.get('Reply-Text')}")

    async def _serve(self, reader: asyncio.StreamReader) -> None:
        reconcile = asyncio.get_running_loop().create_task(self._reconcile())
        try:
            while True:
                headers, body = await read_frame(reader)
                kind = headers.get("Content-Type", "")
                if kind == "text/event-plain":
                    try:
                        self._on_event(*parse_event(body))
                    except Exception:
                        log.exception("could not handle a FreeSWITCH event")
                elif kind in ("command/reply", "api/response"):
                    if self._pending:
                        reply = self._pending.popleft()
                        if not reply.done():
                            reply.set_result((headers, body))
                elif kind == "text/disconnect-notice":
                    log.info("FreeSWITCH is closing the event socket: %s", body.strip())
        finally:
            reconcile.cancel()
            await asyncio.gather(reconcile, return_exceptions=True)

    async def _reconcile(self) -> None:
        try:
            await self._on_connect()
        except Exception as exc:
            log.warning("FreeSWITCH reconcile failed: %s", exc, extra={"gateway": "esl"})
            await self.drop()
            return
        self.ready.set()
        self._state.enter("up", logging.INFO, "connected to FreeSWITCH event socket")

    def _fail_pending(self) -> None:
        while self._pending:
            reply = self._pending.popleft()
            if not reply.done():
                reply.set_exception(GatewayUnavailable("the FreeSWITCH connection was lost"))
