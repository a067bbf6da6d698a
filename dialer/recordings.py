"""Where call recordings are kept: a storage backend, and the download URL of each.

``LocalRecordings`` (the default) keeps files under a directory
(``DIALER_RECORDINGS_DIR``, default ``<data dir>/recordings``) as ``<campaign>/<attempt>.wav``,
written atomically (a temporary file renamed into place). The attempt stores the key, the
file's SHA-256 and length; the file is served only through ``GET
/api/v1/attempts/{id}/recording`` (a token of the attempt's client) or the console (a
session that sees the client), never from a public path.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from dialer.config import Settings
from dialer.errors import NotFound

KEY = re.compile(r"^\d+/\d+\.wav$")


def recording_key(campaign_id: int, attempt_id: int) -> str:
    return f"{campaign_id}/{attempt_id}.wav"


def download_url(attempt_id: int) -> str:
    """Where an authorised client downloads the recording (relative to the service)."""
    return f"/api/v1/attempts/{attempt_id}/recording"


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    sha256: str
    size: int


class LocalRecordings:
    """Recordings in a local directory (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not KEY.match(key):
            raise ValueError(f"not a recording key: {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes) -> Stored:
        return await asyncio.to_thread(self._put, key, data)

    def _put(self, key: str, data: bytes) -> Stored:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = target.with_suffix(".part")
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
        return Stored(key, hashlib.sha256(data).hexdigest(), len(data))

    async def read(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)


def recordings_storage(settings: Settings) -> LocalRecordings:
    """The configured backend (``DIALER_RECORDINGS_DIR``, else ``<data dir>/recordings``)."""
    return LocalRecordings((settings.recordings_dir or settings.data_dir / "recordings").resolve())


_FIND = """
SELECT a.recording_key FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
WHERE a.id = $1 AND ($2::bigint IS NULL OR c.client_id = $2)
  AND a.recording_key IS NOT NULL AND a.recording_deleted_at IS NULL
"""


async def find_key(conn: asyncpg.Connection, attempt_id: int, scope: int | None) -> str:
    """The storage key of an attempt's recording that ``scope`` (a client id; None = every
    client) may download; ``NotFound`` when there is none or it is another client's."""
    key = await conn.fetchval(_FIND, attempt_id, scope)
    if key is None:
        raise NotFound(f"attempt {attempt_id} has no recording")
    return str(key)
