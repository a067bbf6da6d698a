"""A TCP proxy in front of PostgreSQL that can cut connections, loudly or silently.

``drop()`` closes every connection through it (what a restart does: the client sees the
end at once); ``blackhole()`` stops forwarding on the current connections but leaves
them open (a route or a proxy that died: the client hears nothing, ever). New
connections are forwarded normally unless ``refuse`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
from urllib.parse import parse_qs, urlsplit, urlunsplit

_CHUNK = 64 * 1024


class PgProxy:
    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]
        self._unix = None
        if socket_dir:  # pgserver listens on a Unix socket
            self._unix = sorted(glob.glob(f"{socket_dir}/.s.PGSQL.*"))[0]
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 5432
        self._server: asyncio.Server | None = None
        self._links: list[
            tuple[asyncio.StreamWriter, asyncio.StreamWriter, list[asyncio.Task[None]]]
        ] = []
        self.refuse = False
        self.port = 0

    async def start(self) -> str:
        """Start listening; the URL that reaches the database through the proxy."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        parts = urlsplit(self.url)
        user = parts.username or "postgres"
        return urlunsplit(("postgresql", f"{user}@127.0.0.1:{self.port}", parts.path, "", ""))

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._unix is not None:
            return await asyncio.open_unix_connection(self._unix)
        return await asyncio.open_connection(self._host, self._port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.close()
            return
        try:
            up_reader, up_writer = await self._upstream()
        except OSError:  # the server is down: the client sees the connection refused
            writer.close()
            return
        tasks = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._links.append((writer, up_writer, tasks))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(_CHUNK):
                writer.write(data)
                await writer.drain()
        writer.close()

    def blackhole(self) -> int:
        """Stop forwarding on every current connection, leaving them open; how many."""
        for _, _, tasks in self._links:
            for task in tasks:
                task.cancel()
        n = len(self._links)
        self._silent = self._links  # kept open, never answered
        self._links = []
        return n

    def drop(self) -> None:
        for client, upstream, tasks in self._links:
            for task in tasks:
                task.cancel()
            client.close()
            upstream.close()
        self._links = []

    async def close(self) -> None:
        self.drop()
        for client, upstream, _ in getattr(self, "_silent", []):
            client.close()
            upstream.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
