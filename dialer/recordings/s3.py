"""Recordings in S3-compatible object storage (AWS S3, MinIO, Ceph, ...), through aioboto3.

``DIALER_RECORDINGS_URL=s3://bucket/prefix`` selects it. A recording is first written to the
local spool (``DIALER_RECORDINGS_DIR``), then uploaded as ``<prefix>/<campaign>/<attempt>.wav``;
the attempt stores the object's URL (``s3://bucket/prefix/12/345.wav``), length and SHA-256.
When the upload fails the attempt stores the spool key instead and the recording stays on
local disk: ``flush`` (run every ``RETRY_S`` by the service) uploads it later and points the
attempt at the object, so nothing is lost. Downloads are streamed through the service
(never a public or presigned URL: the access check stays the service's, and the bucket
need not be reachable from browsers). Retention deletes the object.

Credentials (``DIALER_S3_ACCESS_KEY_ID``/``DIALER_S3_SECRET_ACCESS_KEY``, else the AWS
default chain: environment, profile, instance role) are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aioboto3
import asyncpg
from botocore.config import Config
from botocore.exceptions import ClientError

from dialer import metrics
from dialer.config import Secret
from dialer.recordings.local import Download, LocalRecordings, Stored
from dialer.sql import queries

log = logging.getLogger("dialer.recordings")
RETRY_S = 30.0
CHUNK = 64 * 1024
_Q = queries("dialer.recordings")
_MISSING = ("NoSuchKey", "404", "NotFound")


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """``s3://bucket/prefix`` (prefix optional)."""
        if not url.startswith("s3://"):
            raise ValueError("must be an s3://bucket/prefix URL")
        bucket, _, prefix = url[5:].partition("/")
        if not bucket:
            raise ValueError("must name a bucket: s3://bucket/prefix")
        return cls(bucket, prefix.strip("/"))

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"


def split_url(url: str) -> tuple[str, str]:
    """(bucket, object key) of a stored ``s3://`` recording URL."""
    bucket, _, key = url[5:].partition("/")
    if not bucket or not key:
        raise ValueError(f"not an object URL: {url!r}")
    return bucket, key


async def _body(body: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in body.iter_chunks(CHUNK):
            yield chunk
    finally:
        body.close()


class S3Recordings:
    """Recordings in object storage with a local spool (see the module docstring)."""

    def __init__(
        self,
        location: S3Location,
        spool: LocalRecordings,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: Secret | None = None,
        secret_access_key: Secret | None = None,
    ) -> None:
        self.location = location
        self.spool = spool
        self._session = aioboto3.Session(
            aws_access_key_id=access_key_id.reveal() if access_key_id else None,
            aws_secret_access_key=secret_access_key.reveal() if secret_access_key else None,
            region_name=region,
        )
        self._endpoint_url = endpoint_url
        self._client: Any = None
        self._stack = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()

    async def client(self) -> Any:
        async with self._lock:
            if self._client is None:
                config = Config(retries={"max_attempts": 3, "mode": "standard"})
                self._client = await self._stack.enter_async_context(
                    self._session.client("s3", endpoint_url=self._endpoint_url, config=config)
                )
            return self._client

    async def put(self, key: str, data: bytes) -> Stored:
        """Spool, then upload; the object URL, or the spool key when the upload failed."""
        stored = await self.spool.put(key, data)
        if not await self._upload(key, data):
            return stored
        await self.spool.delete(key)
        return Stored(self.location.url(key), stored.sha256, stored.size)

    async def _upload(self, key: str, data: bytes) -> bool:
        try:
            s3 = await self.client()
            await s3.put_object(
                Bucket=self.location.bucket,
                Key=self.location.object_key(key),
                Body=data,
                ContentType="audio/wav",
                Metadata={"sha256": hashlib.sha256(data).hexdigest()},
            )
        except Exception as exc:  # kept in the spool; flush() retries
            metrics.RECORDING_UPLOADS.labels("failed").inc()
            log.warning(
                "recording upload failed; kept on local disk and retried",
                extra={"key": key, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return False
        metrics.RECORDING_UPLOADS.labels("uploaded").inc()
        return True

    async def open(self, key: str) -> Download | None:
        if not key.startswith("s3://"):
            return await self.spool.open(key)  # not uploaded yet (or from before S3)
        bucket, name = split_url(key)
        s3 = await self.client()
        try:
            got = await s3.get_object(Bucket=bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return Download(got.get("ContentLength"), _body(got["Body"]))

    async def read(self, key: str) -> bytes | None:
        got = await self.open(key)
        if got is None:
            return None
        return b"".join([chunk async for chunk in got.chunks])

    async def delete(self, key: str) -> None:
        if not key.startswith("s3://"):
            await self.spool.delete(key)
            return
        bucket, name = split_url(key)
        s3 = await self.client()
        await s3.delete_object(Bucket=bucket, Key=name)

    async def flush(self, pool: asyncpg.Pool) -> int:
        """Upload the spooled recordings whose attempts are written; how many went up."""
        keys = self.spool.keys()
        metrics.RECORDINGS_PENDING.set(len(keys))
        done = 0
        for key in keys:
            done += await self._retry(pool, key)
        metrics.RECORDINGS_PENDING.set(len(keys) - done)
        return done

    async def _retry(self, pool: asyncpg.Pool, key: str) -> int:
        attempt_id = int(key.rsplit("/", 1)[1].removesuffix(".wav"))
        state = await pool.fetchval(_Q["spooled_state"], attempt_id, key)
        if state is None:
            return 0  # its attempt is not written yet (or never will be): kept
        if state == "deleted":
            await self.spool.delete(key)
            return 1
        data = await self.spool.read(key)
        if data is None or not await self._upload(key, data):
            return 0
        moved = await pool.fetchval(_Q["spooled_uploaded"], attempt_id, key, self.location.url(key))
        if moved:
            await self.spool.delete(key)
            return 1
        await self.delete(self.location.url(key))  # retention deleted it meanwhile
        return 0

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
