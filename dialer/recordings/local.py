"""Recordings in a local directory: ``<root>/<campaign>/<attempt>.wav``, written atomically
(a temporary file renamed into place). Also the spool of the S3 backend (``s3``): a
recording lands here first and stays until its upload has succeeded."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

KEY = re.compile(r"^\d+/\d+\.wav$")


@dataclass(frozen=True, slots=True)
class Stored:
    """Where a recording was stored (a local key or an ``s3://`` object URL), its SHA-256
    and its length in bytes."""

    key: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Download:
    """A stored recording being read: its length (when known) and its bytes in chunks."""

    size: int | None
    chunks: AsyncIterator[bytes]


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


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
        try:
            return await asyncio.to_thread(self.path(key).read_bytes)
        except FileNotFoundError:
            return None

    async def open(self, key: str) -> Download | None:
        data = await self.read(key)
        return None if data is None else Download(len(data), _one(data))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    def keys(self) -> list[str]:
        """Every recording in the directory (the S3 backend's uploads still to retry)."""
        if not self.root.is_dir():
            return []
        found = (f"{p.parent.name}/{p.name}" for p in self.root.glob("*/*.wav"))
        return sorted(k for k in found if KEY.match(k))

    async def close(self) -> None:
        return None
