"""Lead-list uploads and import records: ``POST /api/v1/campaigns/{id}/lists``,
``GET /api/v1/imports[/{id}[/errors.csv]]``.

An upload is streamed to ``$DIALER_DATA_DIR/uploads/`` (never held in memory; refused past
``DIALER_MAX_UPLOAD_BYTES``), checked (CSV? a phone column?) and answered 202 with a queued
import, which this process's import service then runs in the background. The body is either
the CSV itself (any content type but multipart) or a multipart form with a file part;
options come as query parameters or form fields.
"""

from __future__ import annotations

from aiohttp import web

from dialer.api.paging import PAGE_PARAMS, page_of, page_response
from dialer.api.params import query_int
from dialer.api.registry import Param, Routes
from dialer.auth.roles import Permission
from dialer.http import uploads
from dialer.http.jsonio import json_response
from dialer.http.keys import POOL, principal
from dialer.leads import imports

routes = Routes("imports", "Lead-list uploads, their progress and their error reports")

ID = r"{id:\d+}"
IMPORT = {
    "type": "object",
    "description": "an import: state (queued, running, completed, failed), rows read, "
    "accepted, dnc, rejected and rejected_by_reason, rows_per_s, eta_s, error",
}
CSV_BODY = {
    "type": "string",
    "format": "binary",
    "description": "the CSV file as the body, or a multipart/form-data form with a `file` "
    "part (options may also be form fields)",
}
FILE_PARAMS = (
    Param("name", "name of the list (default: the file name)"),
    Param("default_region", "country of numbers written without +country code (ISO, e.g. IN)"),
    Param("phone_column", "the phone column, by name (default: detected)"),
    Param("alt_phone_columns", "alternate phone columns, comma-separated"),
    Param("file_name", "the file's name, when the body is the bare CSV"),
)


routes.post(
    f"/api/v1/campaigns/{ID}/lists",
    summary="Upload a lead list (CSV, streamed); 202 with the import to watch",
    permission=Permission.LEADS_WRITE,
    body=CSV_BODY,
    body_content_type="text/csv",
    query=FILE_PARAMS,
    status=202,
    response=IMPORT,
)(uploads.upload_list)


@routes.get(
    f"/api/v1/imports/{ID}",
    summary="An import: state, rows read, accepted, rejected by reason, rows/s, ETA",
    permission=Permission.LEADS_READ,
    response=IMPORT,
)
async def get_import(request: web.Request) -> web.Response:
    row = await uploads.visible_import(request, int(request.match_info["id"]))
    return json_response(imports.present(row))


@routes.get(
    "/api/v1/imports",
    summary="List imports (keyset pagination: pass the last id as `after`)",
    permission=Permission.LEADS_READ,
    query=(
        Param("campaign_id", "only imports into this campaign", {"type": "integer"}),
        Param("state", "queued, running, completed or failed", {"enum": list(imports.STATES)}),
        *PAGE_PARAMS,
    ),
    response={"type": "object", "properties": {"items": {"type": "array", "items": IMPORT}}},
)
async def list_imports(request: web.Request) -> web.Response:
    page = page_of(request, max_limit=imports.PAGE_MAX)
    campaign_id = query_int(request, "campaign_id", default=0, lo=0) or None
    async with request.app[POOL].acquire() as conn:
        rows = await imports.list_page(
            conn,
            principal(request).client_id,
            campaign_id=campaign_id,
            state=request.query.get("state") or None,
            after=page.after,
            limit=page.limit,
        )
    return page_response(rows, page, imports.present)


routes.get(
    f"/api/v1/imports/{ID}/errors.csv",
    summary="The rejected rows of an import as CSV: row, reason, value, detail",
    permission=Permission.LEADS_READ,
    response={"type": "string"},
    response_content_type="text/csv",
)(uploads.import_errors)
