"""Uploads that must not fill the disk, leak, or be silently dropped: compressed bodies are
bounded by what they decompress to, queued files are private, unusable files get a clear
error, and an ``Idempotency-Key`` repeat is compared by the body's digest."""

from __future__ import annotations

import errno
import gzip
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from dialer.config import Settings
from dialer.http import uploads
from dialer.http.keys import IMPORTS, SETTINGS
from dialer.leads.background import ImportService
from dialer.runtime.parts import imports_part
from tests.integration.conftest import Api, serving
from tests.integration.test_import_support import make_campaign

LIMIT = 64 * 1024 * 1024


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_upload_bytes=LIMIT)
    async with serving(pool, settings, ["manager"], background=[imports_part]) as helper:
        yield helper


def _uploads(api: Api) -> Path:
    return Path(api.client.app[SETTINGS].data_dir) / "uploads"  # type: ignore[index]


async def _upload(
    api: Api, campaign: int, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    return await api.call(
        "POST",
        f"/api/v1/campaigns/{campaign}/lists",
        as_="manager",
        data=body,
        headers={"Content-Type": "text/csv", **(headers or {})},
    )


async def _idle(api: Api) -> None:
    service = api.client.app[IMPORTS]  # type: ignore[index]
    assert isinstance(service, ImportService)
    await service.wait_idle(timeout=120)


def _csv(rows: int, seed: int = 0) -> bytes:
    lines = ["name,phone"] + [f"P{i},+1415555{(seed + i) % 10000:04d}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


async def test_a_gzip_bomb_is_refused_before_it_fills_the_disk(api: Api) -> None:
    campaign = await make_campaign(api.pool)
    inflated = b"name,phone\n" + b"x" * (40 * 1024 * 1024)  # 40 MB, under the limit
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(bomb) < 100 * 1024
    status, body = await _upload(api, campaign, bomb, {"Content-Encoding": "gzip"})
    assert status == 413, body
    assert body["field"] == "file" and "compressed length" in body["error"]
    assert list(_uploads(api).glob("*")) == []


async def test_a_compressed_list_of_ordinary_ratio_is_imported(api: Api) -> None:
    campaign = await make_campaign(api.pool)
    status, body = await _upload(
        api, campaign, gzip.compress(_csv(200)), {"Content-Encoding": "gzip"}
    )
    assert status == 202, body
    await _idle(api)
    status, done = await api.call("GET", f"/api/v1/imports/{body['id']}", as_="manager")
    assert done["state"] == "completed" and done["accepted"] == 200, done


async def test_queued_uploads_are_private(api: Api, pool: asyncpg.Pool) -> None:
    campaign = await make_campaign(api.pool)
    service = api.client.app[IMPORTS]  # type: ignore[index]
    await service.wait_idle(timeout=120)
    status, body = await _upload(api, campaign, _csv(5))
    assert status == 202, body
    folder = _uploads(api)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.glob("*"):  # a file may already be imported and gone
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    await _idle(api)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"p" * 300_000 + b"\n+14155550100\n", "first line is longer"),
        (b",".join(b"column%d" % i for i in range(50_000)) + b"\n1,2\n", "first line is longer"),
        (b"9" * 1_000_000, "first line is longer"),
        (b"name,phone\n", "no data rows"),
        (b"name,phone\r\n\r\n\r\n", "no data rows"),
    ],
)
async def test_unusable_files_get_a_clear_error(api: Api, content: bytes, says: str) -> None:
    campaign = await make_campaign(api.pool)
    status, body = await _upload(api, campaign, content)
    assert status == 400, body
    assert says in body["error"]


async def test_an_idempotent_repeat_with_another_file_of_the_same_length_is_refused(
    api: Api,
) -> None:
    campaign = await make_campaign(api.pool)
    first, second = _csv(20, seed=0), _csv(20, seed=5000)
    assert len(first) == len(second) and first != second
    key = {"Idempotency-Key": "list-upload-1"}
    status, accepted = await _upload(api, campaign, first, key)
    assert status == 202, accepted
    await _idle(api)
    status, replay = await _upload(api, campaign, first, key)
    assert status == 202 and replay["id"] == accepted["id"]  # the same file: replayed
    status, err = await _upload(api, campaign, second, key)
    assert status == 422 and err["field"] == "Idempotency-Key", err
    status, fresh = await _upload(api, campaign, second, {"Idempotency-Key": "list-upload-2"})
    assert status == 202 and fresh["id"] != accepted["id"]
    await _idle(api)


async def test_a_form_field_with_nul_is_400_naming_it(api: Api) -> None:
    campaign = await make_campaign(api.pool)
    form = aiohttp.FormData()
    form.add_field("name", "list\x00name")
    form.add_field("file", _csv(3), filename="leads.csv", content_type="text/csv")
    status, body = await api.call(
        "POST", f"/api/v1/campaigns/{campaign}/lists", as_="manager", data=form
    )
    assert status == 400 and body["field"] == "name", body
    assert list(_uploads(api).glob("*")) == []


async def test_a_full_uploads_disk_is_a_507_and_keeps_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk of ``uploads/`` fills up mid-upload (as a small tmpfs does): a clear 507,
    the partial file removed, no import recorded; the next upload works once there is room."""
    campaign = await make_campaign(api.pool)
    real = uploads._private_file

    class FullDisk:
        def __init__(self, path: Path) -> None:
            self.file = real(path)
            self.room = 64 * 1024

        def write(self, data: bytes) -> int:
            if len(data) > self.room:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.room -= len(data)
            return self.file.write(data)

        def close(self) -> None:
            self.file.close()

    monkeypatch.setattr(uploads, "_private_file", FullDisk)
    before = await api.pool.fetchval("SELECT count(*) FROM imports")
    status, body = await _upload(api, campaign, _csv(20_000))
    assert status == 507, body
    assert body["field"] == "file" and "no room" in body["error"]
    assert list(_uploads(api).glob("*")) == []
    assert await api.pool.fetchval("SELECT count(*) FROM imports") == before
    monkeypatch.undo()
    status, body = await _upload(api, campaign, _csv(5))
    assert status == 202, body
    await _idle(api)
