"""List uploads over HTTP: a streamed multi-MB body and a multipart form into the running
service (its import service and worker processes), progress, the error report, refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from dialer.config import Settings
from dialer.http.keys import IMPORTS, SETTINGS
from dialer.leads.background import ImportService
from dialer.runtime.parts import imports_part
from tests.integration.conftest import Api, serving
from tests.integration.test_import_support import make_campaign, make_client

LIMIT = 8 * 1024 * 1024


@pytest.fixture(scope="module")
async def api(pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_upload_bytes=LIMIT)
    async with serving(pool, settings, background=[imports_part]) as helper:
        other = await make_client(pool)
        helper.tokens["other"] = await helper.token("manager", client_id=other, name="other")
        helper.tokens["other_id"] = str(other)
        yield helper


def _service(api: Api) -> ImportService:
    service = api.client.app[IMPORTS]  # type: ignore[index]
    assert isinstance(service, ImportService)
    return service


async def _finished(api: Api, import_id: int, as_: str = "manager") -> dict[str, Any]:
    await _service(api).wait_idle(timeout=120)
    status, body = await api.call("GET", f"/api/v1/imports/{import_id}", as_=as_)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _uploads(api: Api) -> list[Path]:
    folder = Path(api.client.app[SETTINGS].data_dir) / "uploads"  # type: ignore[index]
    return sorted(folder.glob("*")) if folder.exists() else []


async def _body(rows: int) -> AsyncIterator[bytes]:
    """A list streamed in pieces (chunked transfer encoding: no Content-Length)."""
    yield b"Customer;Mobile;City\r\n"
    batch = []
    for i in range(rows):
        national = f"98{i:08d}"
        phone = "n/a" if i % 100 == 0 else f"+91 {national[:5]} {national[5:]}"
        batch.append(f"Customer {i};{phone};Pune with a long enough address line {i}\r\n")
        if len(batch) == 5000:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()


async def test_a_streamed_multi_megabyte_upload_is_imported_in_the_background(api: Api) -> None:
    campaign = await make_campaign(api.pool, region="IN")
    status, accepted = await api.call(
        "POST",
        f"/api/v1/campaigns/{campaign}/lists?name=october",
        as_="manager",
        data=_body(90_000),
        headers={"Content-Type": "text/csv"},
    )
    assert status == 202, accepted
    assert accepted["state"] == "queued" and accepted["name"] == "october"
    assert accepted["delimiter"] == ";" and accepted["bytes_total"] > 5_000_000
    assert accepted["options"]["columns"]["phone"] == "Mobile"

    done = await _finished(api, accepted["id"])
    assert done["state"] == "completed", done["error"]
    assert (done["rows_read"], done["accepted"], done["rejected"]) == (90_000, 89_100, 900)
    assert done["rejected_by_reason"] == {"missing_phone": 900}
    assert done["progress"] == 1.0 and done["eta_s"] == 0.0
    assert _uploads(api) == []  # the upload is removed once imported

    status, page = await api.call(
        "GET", f"/api/v1/campaigns/{campaign}/leads?limit=2", as_="viewer"
    )
    assert status == 200 and len(page["items"]) == 2
    first = page["items"][0]
    assert first["phone_e164"] == "+919800000001" and first["list_id"] == done["list_id"]
    assert first["fields"] == {
        "Customer": "Customer 1",
        "City": "Pune with a long enough address line 1",
    }
    assert first["time_zones"] == ["Asia/Kolkata"]


async def test_multipart_upload_with_form_options_and_the_error_report(api: Api) -> None:
    campaign = await make_campaign(api.pool, region=None)
    text = (
        "Name,Home,Work\n"
        "Wanjiru,0712 345678,0722 000000\n"
        "Otieno,12,0733 111111\n"
        "Amina,0712 345678,\n"
        'Baraka,=HYPERLINK("http://x"),\n'
    )
    form = aiohttp.FormData()
    form.add_field("default_region", "KE")
    form.add_field("phone_column", "home")
    form.add_field("file", text.encode(), filename="nairobi.csv", content_type="text/csv")
    status, accepted = await api.call(
        "POST", f"/api/v1/campaigns/{campaign}/lists", as_="crm", data=form
    )
    assert status == 202, accepted
    assert accepted["file_name"] == "nairobi.csv" and accepted["name"] == "nairobi.csv"
    done = await _finished(api, accepted["id"])
    assert (done["accepted"], done["rejected"]) == (1, 3)
    assert done["rejected_by_reason"] == {"duplicate_in_file": 1, "invalid_number": 2}

    resp = await api.client.get(
        f"/api/v1/imports/{done['id']}/errors.csv",
        headers={"Authorization": f"Bearer {api.tokens['viewer']}"},
    )
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert rows[0] == ["row", "reason", "value", "detail"]
    assert [r[:3] for r in rows[1:]] == [
        ["3", "invalid_number", "12"],
        ["4", "duplicate_in_file", "0712 345678"],
        ["5", "invalid_number", '\'=HYPERLINK("http://x")'],  # never a live formula
    ]


@pytest.mark.parametrize(
    ("body", "query", "field", "message"),
    [
        (b"PK\x03\x04\x14\x00xlsx", "", None, "Excel workbook"),
        (b"name,email\nAnn,ann@example.com\n", "", "phone_column", "no phone column"),
        (b"phone\n+12125550142\n", "?phone_column=mobile", "phone_column", "no column named"),
        (b"phone\n+12125550142\n", "?default_region=XX", "default_region", "unknown region"),
        (b"", "", None, "empty"),
    ],
)
async def test_unusable_uploads_are_refused_at_once(
    api: Api, body: bytes, query: str, field: str | None, message: str
) -> None:
    campaign = await make_campaign(api.pool)
    status, error = await api.call(
        "POST", f"/api/v1/campaigns/{campaign}/lists{query}", as_="manager", data=body
    )
    assert status == 400 and message in error["error"], error
    assert error.get("field") == field
    assert _uploads(api) == []


async def test_a_form_without_a_file_is_refused(api: Api) -> None:
    campaign = await make_campaign(api.pool)
    path = f"/api/v1/campaigns/{campaign}/lists"
    with aiohttp.MultipartWriter("form-data") as form:
        form.append("x").set_content_disposition("form-data", name="name")
    status, error = await api.call("POST", path, as_="manager", data=form)
    assert status == 400 and error["field"] == "file" and "no file part" in error["error"]
    status, error = await api.call("POST", path, as_="manager", data={"name": "x"})
    assert status == 400 and error["field"] == "file"  # a urlencoded form is no CSV
    status, error = await api.call(
        "POST",
        path,
        as_="manager",
        data=b"phone\n+12125550142\n",
        headers={"Content-Type": "multipart/form-data"},  # no boundary
    )
    assert status == 400 and error["field"] == "file"


async def test_uploads_over_the_limit_are_refused_and_not_kept(api: Api) -> None:
    campaign = await make_campaign(api.pool)
    status, error = await api.call(
        "POST",
        f"/api/v1/campaigns/{campaign}/lists",
        as_="manager",
        data=b"x",
        headers={"Content-Length": str(LIMIT + 1)},
        skip_auto_headers=["Content-Length"],
    )
    assert status == 413 and "DIALER_MAX_UPLOAD_BYTES" in error["error"]

    async def endless() -> AsyncIterator[bytes]:
        yield b"phone\n"
        for _ in range(LIMIT // 65536 + 2):
            yield b"+12125550142\n" * 5041

    status, error = await api.call(
        "POST", f"/api/v1/campaigns/{campaign}/lists", as_="manager", data=endless()
    )
    assert status == 413 and error["field"] == "file"
    assert _uploads(api) == []


async def test_roles_and_client_scoping(api: Api) -> None:
    campaign = await make_campaign(api.pool)
    status, _ = await api.call(
        "POST", f"/api/v1/campaigns/{campaign}/lists", as_="viewer", data=b"phone\n1\n"
    )
    assert status == 403
    status, _ = await api.call(
        "POST", f"/api/v1/campaigns/{campaign}/lists", as_="other", data=b"phone\n1\n"
    )
    assert status == 404  # another client's campaign does not exist for this token
    status, accepted = await api.call(
        "POST",
        f"/api/v1/campaigns/{campaign}/lists",
        as_="manager",
        data=b"phone\n+12125550199\n",
    )
    assert status == 202
    await _finished(api, accepted["id"])
    for path in (
        f"/api/v1/imports/{accepted['id']}",
        f"/api/v1/imports/{accepted['id']}/errors.csv",
    ):
        status, _ = await api.call("GET", path, as_="other")
        assert status == 404
    status, page = await api.call("GET", "/api/v1/imports?limit=500", as_="other")
    assert status == 200 and page["items"] == []
    status, page = await api.call(
        "GET", f"/api/v1/imports?campaign_id={campaign}&state=completed", as_="viewer"
    )
    assert [i["id"] for i in page["items"]] == [accepted["id"]]


async def test_the_openapi_document_lists_the_import_routes(api: Api) -> None:
    status, doc = await api.call("GET", "/api/v1/openapi.json", as_=None)
    assert status == 200
    for path in (
        "/api/v1/campaigns/{id}/lists",
        "/api/v1/imports/{id}",
        "/api/v1/imports/{id}/errors.csv",
        "/api/v1/campaigns/{id}/leads",
        "/api/v1/leads/{id}",
        "/api/v1/dnc",
        "/api/v1/dnc/lists",
    ):
        assert path in doc["paths"], path
