"""Where call recordings are kept: a storage backend, and the download URL of each.

Two backends behind one ``RecordingStore`` protocol:

- ``LocalRecordings`` (the default, ``local``) keeps files under a directory
  (``DIALER_RECORDINGS_DIR``, default ``<data dir>/recordings``) as
  ``<campaign>/<attempt>.wav``; the attempt stores that key.
- ``S3Recordings`` (``s3``; ``DIALER_RECORDINGS_URL=s3://bucket/prefix``) uploads each
  recording to S3-compatible object storage after the call, spooling it in the local
  directory until the upload succeeds; the attempt stores the object's ``s3://`` URL.

Either way the attempt stores the key, the file's SHA-256 and length, and the recording is
served only through ``GET /api/v1/attempts/{id}/recording`` (a token of the attempt's client)
or the console (a session that sees the client), never from a public path.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg

from dialer.config import Settings
from dialer.errors import NotFound
from dialer.recordings.local import KEY, Download, LocalRecordings, Stored
from dialer.sql import queries

__all__ = [
    "KEY",
    "Download",
    "LocalRecordings",
    "RecordingStore",
    "Stored",
    "download_url",
    "find_key",
    "recording_key",
    "recordings_storage",
]


class RecordingStore(Protocol):
    """Where recordings are put, read (streamed) and deleted by their stored key."""

    async def put(self, key: str, data: bytes) -> Stored: ...

    async def open(self, key: str) -> Download | None: ...

    async def read(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


def recording_key(campaign_id: int, attempt_id: int) -> str:
    return f"{campaign_id}/{attempt_id}.wav"


def download_url(attempt_id: int) -> str:
    """Where an authorised client downloads the recording (relative to the service)."""
    return f"/api/v1/attempts/{attempt_id}/recording"


def recordings_storage(settings: Settings) -> RecordingStore:
    """The configured backend: S3 when ``DIALER_RECORDINGS_URL`` is set (spooling in the
    local directory), else the local directory (``DIALER_RECORDINGS_DIR``, else
    ``<data dir>/recordings``)."""
    local = LocalRecordings((settings.recordings_dir or settings.data_dir / "recordings").resolve())
    if settings.recordings_url is None:
        return local
    from dialer.recordings.s3 import S3Location, S3Recordings  # aioboto3 only when used

    return S3Recordings(
        S3Location.parse(settings.recordings_url),
        local,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


async def find_key(conn: asyncpg.Connection, attempt_id: int, scope: int | None) -> str:
    """The storage key of an attempt's recording that ``scope`` (a client id; None = every
    client) may download; ``NotFound`` when there is none or it is another client's."""
    key = await conn.fetchval(queries("dialer.recordings")["find_key"], attempt_id, scope)
    if key is None:
        raise NotFound(f"attempt {attempt_id} has no recording")
    return str(key)
