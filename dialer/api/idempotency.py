"""``Idempotency-Key`` for write requests (POST, PATCH, PUT, DELETE under ``/api/v1/``).

A client that may retry a request (after a timeout or a dropped connection) sends a unique
key with it. The first request with a key reserves it for the token (insert first, so two
concurrent duplicates never both run) and stores its response for 24 hours; a repeat with
the same key and the same request gets that stored response back, marked
``Idempotent-Replayed: true``, without running again.

- Same key, different method, path or body: 422, ``field`` = ``Idempotency-Key``.
- Same key while the first request still runs: 409 with ``Retry-After: 1``.
- Only successful responses are kept. A request that failed (4xx: nothing changed, or a
  5xx) releases its key, so it may be corrected and retried with the same key.
- JSON bodies are compared by content (key order and spacing do not matter); streamed
  bodies (uploads) by a SHA-256 of what was received: the handler records it while it
  streams the file to disk, and a repeat is read through (not stored) to compare it, so a
  different file of the same length is refused (422), never replayed.
- The kept body is encrypted with the service's key (``dialer.secrets``): some responses
  show a secret once (a new webhook's signing secret, a rotated one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from datetime import datetime, timedelta

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler

from dialer.db import DB_ERRORS
from dialer.errors import DialerError
from dialer.http.jsonio import error_response
from dialer.http.keys import BODY_DIGEST, CLOCK, POOL, PRINCIPAL, SETTINGS
from dialer.http.uploads import body_digest
from dialer.secrets import SecretBox, secret_box

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
FERNET_PREFIX = b"gAAAAA"  # every Fernet token (version byte 0x80, base64)
METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
PREFIX = "/api/v1/"
TTL = timedelta(hours=24)
# A reservation whose request never finished (its process died) is free again after this.
ABANDONED_AFTER = timedelta(minutes=5)
PURGE_EVERY = timedelta(minutes=10)
MAX_KEY_LENGTH = 255
_KEPT_HEADERS = ("Content-Type", "Location")

_RESERVE = """
INSERT INTO idempotency_keys AS k
    (token_id, key, fingerprint, method, path, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (token_id, key) DO UPDATE
   SET fingerprint = EXCLUDED.fingerprint, method = EXCLUDED.method, path = EXCLUDED.path,
       created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
       status = NULL, headers = NULL, body = NULL
 WHERE k.expires_at <= $6 OR (k.status IS NULL AND k.created_at <= $8)
RETURNING true
"""
_EXISTING = "SELECT * FROM idempotency_keys WHERE token_id = $1 AND key = $2"
_COMPLETE = """
UPDATE idempotency_keys SET status = $4, headers = $5, body = $6, fingerprint = $7
WHERE token_id = $1 AND key = $2 AND fingerprint = $3 AND status IS NULL
"""
_RELEASE = """
DELETE FROM idempotency_keys
WHERE token_id = $1 AND key = $2 AND fingerprint = $3 AND status IS NULL
"""
_PURGE = """
DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT 10000))
"""

_last_purge: weakref.WeakKeyDictionary[web.Application, datetime] = weakref.WeakKeyDictionary()


def _bad_key(message: str) -> web.Response:
    return error_response(400, message, field=HEADER)


async def fingerprint(request: web.Request) -> bytes:
    """SHA-256 of what makes two requests "the same": method, path and query, body."""
    digest = hashlib.sha256(f"{request.method}\n{request.path_qs}\n".encode())
    if request.content_type == "application/json":
        raw = await request.read()  # cached by aiohttp: the handler reads it again
        try:
            canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
            digest.update(b"json\n" + canonical.encode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            digest.update(b"raw\n" + raw)  # the handler answers it with a 400
    else:
        digest.update(f"stream\n{request.content_type}\n{request.content_length}".encode())
    return digest.digest()


def _streamed(request: web.Request) -> bool:
    return request.content_type != "application/json"


def stream_fingerprint(request: web.Request, body_digest: bytes) -> bytes:
    """What a streamed request is kept under once its body was read: method, path and
    query, content type and the body's SHA-256."""
    head = f"{request.method}\n{request.path_qs}\nstream\n{request.content_type}\n"
    return hashlib.sha256(head.encode() + body_digest).digest()


async def _same_stream(request: web.Request, row: asyncpg.Record) -> bool:
    """Whether a repeat of a completed streamed request carries the body it was kept for."""
    if row["status"] is None or not _streamed(request):
        return False
    try:
        received = await body_digest(request)
    except (DialerError, ValueError):
        return False  # unreadable or too large: it cannot be the body that succeeded
    return stream_fingerprint(request, received) == bytes(row["fingerprint"])


def _stored(response: web.Response, box: SecretBox) -> tuple[dict[str, str], bytes]:
    """Headers and the body to keep. The body is encrypted: some responses carry a secret
    shown once (a new webhook's signing secret, a rotated one)."""
    headers = {h: response.headers[h] for h in _KEPT_HEADERS if h in response.headers}
    body = response.body
    return headers, box.encrypt_bytes(bytes(body) if isinstance(body, bytes | bytearray) else b"")


def _replay(row: asyncpg.Record, box: SecretBox) -> web.Response:
    headers = dict(row["headers"] or {})
    headers[REPLAYED_HEADER] = "true"
    stored = bytes(row["body"] or b"")
    # Bodies kept before they were encrypted (at most a day old) are replayed as they are.
    body = box.decrypt_bytes(stored) if stored.startswith(FERNET_PREFIX) else stored
    return web.Response(status=row["status"], body=body, headers=headers)


def _storable(response: web.Response) -> bool:
    body = response.body
    return response.status < 400 and (body is None or isinstance(body, bytes | bytearray))


async def _purge_expired(app: web.Application, pool: asyncpg.Pool, now: datetime) -> None:
    last = _last_purge.get(app)
    if last is not None and now - last < PURGE_EVERY:
        return
    _last_purge[app] = now
    try:
        await pool.execute(_PURGE, now)
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("could not purge expired idempotency keys", extra={"error": str(exc)})


async def _answer_existing(
    request: web.Request, box: SecretBox, token_id: int, key: str, digest: bytes
) -> web.Response | None:
    """The response for a key already reserved; None when it vanished meanwhile."""
    row = await request.app[POOL].fetchrow(_EXISTING, token_id, key)
    if row is None:
        return None
    if bytes(row["fingerprint"]) != digest and not await _same_stream(request, row):
        return error_response(
            422,
            f"this {HEADER} was already used for a different request "
            f"({row['method']} {row['path']} or another body); use a new key",
            field=HEADER,
        )
    if row["status"] is None:
        response = error_response(
            409,
            f"a request with this {HEADER} is still being processed; retry shortly",
            field=HEADER,
        )
        response.headers["Retry-After"] = "1"
        return response
    return _replay(row, box)


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run a keyed write request at most once per (token, key); replay its response."""
    key = request.headers.get(HEADER)
    who = request.get(PRINCIPAL)
    if (
        key is None
        or request.method not in METHODS
        or not request.path.startswith(PREFIX)
        or who is None
        or who.token_id is None
    ):
        return await handler(request)
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return _bad_key(f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters")

    pool: asyncpg.Pool = request.app[POOL]
    box = secret_box(request.app[SETTINGS])
    now = request.app[CLOCK].now()
    digest = await fingerprint(request)
    args = (who.token_id, key, digest)
    for _ in range(3):  # a reservation can vanish between the insert and the read
        reserved = await pool.fetchval(
            _RESERVE, *args, request.method, request.path_qs, now, now + TTL, now - ABANDONED_AFTER
        )
        if reserved:
            break
        answer = await _answer_existing(request, box, *args)
        if answer is not None:
            return answer
    else:
        return error_response(409, f"could not reserve the {HEADER}; retry", field=HEADER)

    keep = False
    try:
        response = await handler(request)
        if isinstance(response, web.Response) and _storable(response):
            headers, body = _stored(response, box)
            received = request.get(BODY_DIGEST)
            kept = digest if received is None else stream_fingerprint(request, received)
            await pool.execute(_COMPLETE, *args, response.status, headers, body, kept)
            keep = True
        return response
    finally:
        if not keep:
            try:
                await pool.execute(_RELEASE, *args)
            except DB_ERRORS as exc:
                log.warning("could not release an idempotency key", extra={"error": str(exc)})
        await _purge_expired(request.app, pool, now)
