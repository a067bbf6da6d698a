"""A campaign's call-floor settings: its dispositions (action, retry, hotkey) and pause codes.

The forms post rows (``d-<n>-code`` …, ``p-<n>-code`` …); rows without a code are left out,
and the result goes through the same checks as ``PUT /api/v1/campaigns/{id}/dispositions``
(``campaigns.codes``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from dialer.auth.roles import Permission
from dialer.campaigns import codes, scripts
from dialer.campaigns import store as campaigns
from dialer.errors import NotFound, ValidationError
from dialer.http.keys import CLOCK, POOL
from dialer.ui.context import session
from dialer.ui.pages.live import head_context
from dialer.ui.render import flash, render, see_other
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
ID = r"{id:\d+}"
BLANK_ROWS = 2
MAX_ROWS = codes.MAX_ITEMS + BLANK_ROWS


async def _page(
    request: web.Request,
    *,
    rows: dict[str, list[dict[str, Any]]] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    script: str | None = None,
    preview: dict[str, Any] | None = None,
) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, int(request.match_info["id"]), who.client_id)
        if rows is None:
            rows = {
                "dispositions": [vars(d) for d in await codes.dispositions(conn, campaign["id"])],
                "pauses": [vars(p) for p in await codes.pause_codes(conn, campaign["id"])],
            }
    blank_d = {"code": "", "label": "", "action": "complete", "retry_after_s": None,
               "max_attempts": None, "hotkey": None}  # fmt: skip
    blank_p = {"code": "", "label": "", "paid": False}
    context = {
        "title": f"Dispositions & pauses · {campaign['name']}",
        "section": "campaigns",
        **head_context(who, campaign, "floor"),
        "dispositions": rows["dispositions"] + [blank_d] * BLANK_ROWS,
        "pauses": rows["pauses"] + [blank_p] * BLANK_ROWS,
        "then_actions": codes.ACTIONS,
        "errors": errors or {},
        "script": script if script is not None else (await _script(request, campaign["id"])),
        "preview": preview,
    }
    return await render(request, "floor/page.html", context, status=status)


async def _script(request: web.Request, campaign_id: int) -> str:
    async with request.app[POOL].acquire() as conn:
        return await scripts.get_script(conn, campaign_id) or ""


@routes.post(f"/ui/campaigns/{ID}/floor/script", permission=Permission.CAMPAIGNS_WRITE)
async def save_script(request: web.Request) -> web.Response:
    """Save the script, or (``preview`` button) show it for a lead without saving."""
    form = await request.post()
    text = str(form.get("body", ""))
    lead = str(form.get("lead_id", "")).strip()
    who = session(request).principal
    cid = int(request.match_info["id"])
    try:
        scripts.check_body({"body": text})
        async with request.app[POOL].acquire() as conn:
            campaign = await campaigns.get(conn, cid, who.client_id)
            if form.get("preview") is not None:
                if not lead.isdigit():
                    raise ValidationError("give a lead id to preview with", field="lead_id")
                html = await scripts.preview(conn, cid, int(lead), text)
                return await _page(request, script=text, preview={"lead_id": lead, "html": html})
            await scripts.set_script(conn, cid, text, who, now=request.app[CLOCK].now())
    except (ValidationError, NotFound) as exc:
        message = exc.message if isinstance(exc, ValidationError) else str(exc)
        field = "lead_id" if isinstance(exc, NotFound) else exc.field or "body"
        errors = {"script" if field == "body" else "lead_id": message[:1].upper() + message[1:]}
        return await _page(
            request, errors=errors, status=400, script=text, preview={"lead_id": lead}
        )
    await flash(request, "success", "Script saved.")
    return see_other(f"/ui/campaigns/{campaign['id']}/floor")


@routes.get(f"/ui/campaigns/{ID}/floor", permission=Permission.CAMPAIGNS_WRITE)
async def floor_page(request: web.Request) -> web.Response:
    return await _page(request)


def _number(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text  # a non-number is reported by the check


def _rows(form: MultiDictProxy[Any], prefix: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for n in range(MAX_ROWS):
        row = {k: str(form.get(f"{prefix}-{n}-{k}", "")).strip() for k in keys}
        if row["code"]:
            rows.append(row)
    return rows


def _row_error(exc: ValidationError) -> str:
    field = exc.field or ""
    if field.startswith("items[") and "]" in field:
        n = int(field[6 : field.index("]")])
        return f"Row {n + 1}: {exc.message}."
    return exc.message[:1].upper() + exc.message[1:] + "."


@routes.post(f"/ui/campaigns/{ID}/floor/dispositions", permission=Permission.CAMPAIGNS_WRITE)
async def save_dispositions(request: web.Request) -> web.Response:
    form = await request.post()
    keys = ("code", "label", "action", "retry_after_s", "max_attempts", "hotkey")
    rows = _rows(form, "d", keys)
    items = [
        {
            "code": r["code"], "label": r["label"], "action": r["action"],
            "retry_after_s": _number(r["retry_after_s"]),
            "max_attempts": _number(r["max_attempts"]), "hotkey": r["hotkey"] or None,
        }
        for r in rows
    ]  # fmt: skip
    try:
        parsed = codes.parse_dispositions({"items": items})
    except ValidationError as exc:
        return await _rejected(request, "dispositions", rows, exc)
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, int(request.match_info["id"]), who.client_id)
        await codes.set_dispositions(
            conn, campaign["id"], parsed, who, now=request.app[CLOCK].now()
        )
    await flash(request, "success", f"{len(parsed)} dispositions saved.")
    return see_other(f"/ui/campaigns/{campaign['id']}/floor")


@routes.post(f"/ui/campaigns/{ID}/floor/pauses", permission=Permission.CAMPAIGNS_WRITE)
async def save_pauses(request: web.Request) -> web.Response:
    form = await request.post()
    rows = _rows(form, "p", ("code", "label", "paid"))
    items = [{"code": r["code"], "label": r["label"], "paid": r["paid"] == "on"} for r in rows]
    try:
        parsed = codes.parse_pause_codes({"items": items})
    except ValidationError as exc:
        return await _rejected(request, "pauses", rows, exc)
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        campaign = await campaigns.get(conn, int(request.match_info["id"]), who.client_id)
        await codes.set_pause_codes(conn, campaign["id"], parsed, who, now=request.app[CLOCK].now())
    await flash(request, "success", f"{len(parsed)} pause codes saved.")
    return see_other(f"/ui/campaigns/{campaign['id']}/floor")


async def _rejected(
    request: web.Request, which: str, rows: list[dict[str, Any]], exc: ValidationError
) -> web.Response:
    """The form again with what was typed and the error above its table."""
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        cid = int(request.match_info["id"])
        current = {
            "dispositions": [vars(d) for d in await codes.dispositions(conn, cid)],
            "pauses": [vars(p) for p in await codes.pause_codes(conn, cid)],
        }
        await campaigns.get(conn, cid, who.client_id)
    if which == "pauses":
        rows = [r | {"paid": r["paid"] == "on"} for r in rows]
    current[which] = rows
    return await _page(request, rows=current, errors={which: _row_error(exc)}, status=400)
