"""One scratch PostgreSQL database per benchmark run, dropped afterwards.

The server is ``DIALER_DATABASE_URL`` when set, else an embedded PostgreSQL (pgserver) in a
temporary folder that is removed at the end. Every benchmark in ``bench/`` uses this, so a
run never touches a real database's data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from dialer import db
from dialer.migrate import migrate


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@dataclass(frozen=True)
class Scratch:
    """A scratch database: its URL, the server's, and the embedded folder to remove."""

    url: str
    server: str
    folder: Path | None

    async def drop(self) -> None:
        admin = await asyncpg.connect(self.server)
        try:
            name = urlsplit(self.url).path.lstrip("/")
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)


async def create_scratch(
    prefix: str, *, migrated: bool = True, fast_commit: bool = False
) -> Scratch:
    """A new database ``<prefix>_<random>``; the caller drops it. ``migrated`` applies the
    project's migrations first; ``fast_commit`` turns off synchronous commit, as a dialer
    host tuned for speed might."""
    folder: Path | None = None
    server = os.environ.get("DIALER_DATABASE_URL")
    if not server:
        folder = Path(tempfile.mkdtemp(prefix=f"dialer-{prefix}-pg-"))
        server = await asyncio.to_thread(db.start_embedded, folder, quiet=True)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    scratch = Scratch(with_database(server, name), server, folder)
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        if fast_commit:
            await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await admin.close()
    if migrated:
        try:
            conn = await db.connect(scratch.url)
            try:
                await migrate(conn)
            finally:
                await conn.close()
        except BaseException:
            await scratch.drop()
            raise
    return scratch


@asynccontextmanager
async def scratch_database(
    prefix: str, *, migrated: bool = True, fast_commit: bool = False
) -> AsyncIterator[str]:
    """Yield the URL of a new scratch database; drop it (and any embedded server folder)
    on exit."""
    scratch = await create_scratch(prefix, migrated=migrated, fast_commit=fast_commit)
    try:
        yield scratch.url
    finally:
        await scratch.drop()
