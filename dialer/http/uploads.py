"""Uploads and import reads that the API and the console share: a CSV body (bare or a
multipart form's file part) streamed to ``$DIALER_DATA_DIR/uploads/``, recorded as a queued
import and handed to this process's import service; an import's errors as CSV."""

from __future__ import annotations

import asyncio
import errno
import functools
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from aiohttp import BodyPartReader, web

from dialer.auth.roles import Permission
from dialer.dnc import store as dnc_store
from dialer.errors import DialerError, NotFound, ValidationError
from dialer.http.jsonio import error_response, json_response
from dialer.http.keys import BODY_DIGEST, CLOCK, IMPORTS, POOL, SETTINGS, principal
from dialer.inputs import INT64_MAX, check_fields
from dialer.instants import parse_instant
from dialer.leads import imports
from dialer.leads.background import ImportService, uploads_dir
from dialer.leads.submit import DncOptions, FileOptions, dnc_import, lead_import, split_columns

log = logging.getLogger(__name__)
_CHUNK = 256 * 1024
# A compressed body may decompress to at most this many times its length (gzip's own
# ceiling is about 1,000; CSV text compresses 3-10 times).
MAX_INFLATION = 50
_FIELD_MAX = 4096


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


NO_ROOM = "the server has no room for uploads now: nothing was kept; try again later"


class UploadTooLarge(DialerError):
    """The upload is larger than ``DIALER_MAX_UPLOAD_BYTES``."""


@dataclass
class Upload:
    """A request body saved to disk, with the form fields that came with it."""

    path: Path
    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    size: int = 0


async def _copy(
    read: Callable[[], Awaitable[bytes]],
    out: Sink,
    limit: tuple[int, str],
    digest: Any = None,
) -> int:
    """Copy what ``read`` returns (decompressed bytes, for a compressed body) to ``out``;
    ``UploadTooLarge`` before a byte past ``limit`` is written."""
    size = 0
    most, reason = limit
    while chunk := await read():
        size += len(chunk)
        if size > most:
            raise UploadTooLarge(f"upload larger than {most} bytes ({reason})")
        if digest is not None:
            digest.update(chunk)
        await asyncio.to_thread(out.write, chunk)
    return size


def body_limit(request: web.Request) -> tuple[int, str]:
    """The most bytes the body may hold, decompressed, and what sets that limit. A body
    sent with ``Content-Encoding`` may inflate at most ``MAX_INFLATION`` times its declared
    length (and must declare it), so a small compressed request cannot fill the disk."""
    limit = request.app[SETTINGS].max_upload_bytes
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return limit, "DIALER_MAX_UPLOAD_BYTES"
    if request.content_length is None:
        raise ValidationError(
            "a compressed upload needs a Content-Length (or send it uncompressed)",
            field="Content-Encoding",
        )
    inflated = request.content_length * MAX_INFLATION
    if inflated < limit:
        return inflated, f"{MAX_INFLATION} times the compressed length"
    return limit, "DIALER_MAX_UPLOAD_BYTES"


async def receive(request: web.Request) -> Upload:
    """Stream the body (bare CSV or a multipart form's file part) to a new upload file."""
    limit = body_limit(request)
    if request.content_length is not None and request.content_length > limit[0]:
        raise UploadTooLarge(f"upload larger than {limit[0]} bytes ({limit[1]})")
    if request.content_type == "application/x-www-form-urlencoded":
        raise ValidationError(
            "send the CSV as the request body or as the `file` part of a multipart form",
            field="file",
        )
    folder = await asyncio.to_thread(uploads_dir, request.app[SETTINGS].data_dir)
    upload = Upload(folder / f"{uuid.uuid4().hex}.csv")
    out = await asyncio.to_thread(_private_file, upload.path)
    try:
        request[BODY_DIGEST] = await _read_body(request, upload, out, limit)
    except BaseException:
        out.close()
        upload.path.unlink(missing_ok=True)
        raise
    await asyncio.to_thread(out.close)
    return upload


async def _read_body(
    request: web.Request, upload: Upload, out: Sink, limit: tuple[int, str]
) -> bytes:
    """Copy the file to ``out``; the SHA-256 of what was received (the file, and the form's
    fields for a multipart body)."""
    digest = hashlib.sha256()
    if request.content_type.startswith("multipart/"):
        await _receive_form(request, upload, out, limit, digest)
        check_fields(upload.fields)
        digest.update(json.dumps(sorted(upload.fields.items())).encode("utf-8"))
    else:
        read = functools.partial(request.content.read, _CHUNK)
        upload.size = await _copy(read, out, limit, digest)
    return digest.digest()


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


async def body_digest(request: web.Request) -> bytes:
    """The digest ``receive`` would record for this request's body, reading it to the end
    without storing it (an ``Idempotency-Key`` repeat is compared with it)."""
    return await _read_body(request, Upload(Path()), _Discard(), body_limit(request))


def _private_file(path: Path) -> IO[bytes]:
    """A new file only the service's user may read (a queued list holds phone numbers)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


async def _receive_form(
    request: web.Request, upload: Upload, out: Sink, limit: tuple[int, str], digest: Any
) -> None:
    try:
        reader = await request.multipart()
        seen_file = False
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.filename is not None or part.name == "file":
                if seen_file:
                    raise ValidationError("send one file per upload", field="file")
                seen_file = True
                upload.file_name = part.filename
                read = functools.partial(part.read_chunk, _CHUNK)
                upload.size = await _copy(read, out, limit, digest)
            elif part.name:
                upload.fields[part.name] = await _field(part)
    except ValueError as exc:  # not a well-formed multipart body
        raise ValidationError(f"the multipart form cannot be read: {exc}", field="file") from None
    if not seen_file:
        raise ValidationError("the form has no file part (name it `file`)", field="file")


async def _field(part: BodyPartReader) -> str:
    """A small form field (options); never buffers more than a few KB of it."""
    value = b""
    while chunk := await part.read_chunk(_FIELD_MAX):
        value += chunk
        if len(value) > _FIELD_MAX:
            raise ValidationError(f"form field {part.name} is too long", field=part.name)
    return value.decode("utf-8", "replace")


def file_options(request: web.Request, upload: Upload) -> FileOptions:
    """Options from the query string, overridden by form fields."""
    values: dict[str, Any] = dict(request.query)
    values.update(upload.fields)
    return FileOptions(
        name=values.get("name") or None,
        file_name=upload.file_name or values.get("file_name") or None,
        default_region=values.get("default_region") or None,
        phone_column=values.get("phone_column") or None,
        alt_phone_columns=split_columns(values.get("alt_phone_columns")),
        source="upload",
    )


def import_service(request: web.Request) -> ImportService:
    service = request.app.get(IMPORTS)
    if service is None:
        raise ServiceMissing
    return service


class ServiceMissing(DialerError):
    """This process does not run imports (not started by ``dialer serve``)."""


async def accept_upload(
    request: web.Request,
    create: Callable[[Upload], Awaitable[dict[str, Any]]],
) -> web.Response:
    """Receive, check, record and queue an upload; 202 with the import, or a JSON error."""
    try:
        service = import_service(request)
        upload = await receive(request)
    except UploadTooLarge as exc:
        response = error_response(413, str(exc), field="file")
        response.force_close()  # the rest of the body is not read: end the connection
        return response
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        log.error("no room for uploads: %s", exc)
        response = error_response(507, NO_ROOM, field="file")
        response.force_close()
        return response
    except ServiceMissing:
        return error_response(503, "list imports do not run in this process")
    try:
        row = await create(upload)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    service.submit(row["id"])
    headers = {"Location": f"/api/v1/imports/{row['id']}"}
    return json_response(imports.present(row), status=202, headers=headers)


async def upload_list(request: web.Request) -> web.Response:
    campaign_id = int(request.match_info["id"])
    who = principal(request)

    async def create(upload: Upload) -> dict[str, Any]:
        async with request.app[POOL].acquire() as conn:
            return await lead_import(
                conn,
                upload.path,
                campaign_id,
                file_options(request, upload),
                who,
                now=request.app[CLOCK].now(),
            )

    return await accept_upload(request, create)


async def visible_import(request: web.Request, import_id: int) -> dict[str, Any]:
    who = principal(request)
    async with request.app[POOL].acquire() as conn:
        row = await imports.get(conn, import_id, who.client_id)
    if row["kind"] == "dnc" and not who.can(Permission.DNC_READ):
        raise NotFound(f"import {import_id} does not exist")
    return row


async def import_errors(request: web.Request) -> web.StreamResponse:
    import_id = int(request.match_info["id"])
    await visible_import(request, import_id)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"',
        }
    )
    await response.prepare(request)
    async with request.app[POOL].acquire() as conn:
        async for piece in imports.report_csv(conn, import_id):
            await response.write(piece)
    await response.write_eof()
    return response


async def upload_dnc_list(request: web.Request) -> web.Response:
    who = principal(request)

    async def create(upload: Upload) -> dict[str, Any]:
        values: dict[str, Any] = {**request.query, **upload.fields}
        options = DncOptions(
            list_source=dnc_store.check_source(values.get("source")),
            reason=values.get("reason") or None,
            expires_at=parse_instant(values.get("expires_at"), "expires_at"),
            client_id=_query_id(values, "client_id"),
            campaign_id=_query_id(values, "campaign_id"),
            scope=values.get("scope") or None,
            mode=values.get("mode") or "add",
        )
        async with request.app[POOL].acquire() as conn:
            return await dnc_import(
                conn,
                upload.path,
                file_options(request, upload),
                options,
                who,
                now=request.app[CLOCK].now(),
            )

    return await accept_upload(request, create)


def _query_id(values: dict[str, Any], key: str) -> int | None:
    raw = values.get(key)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"{key} must be an integer", field=key) from None
    if not 0 < value <= INT64_MAX:
        raise ValidationError(f"{key} must be an id between 1 and {INT64_MAX}", field=key)
    return value
