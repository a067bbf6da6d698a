"""Do-not-call lists: search by number, add an entry, remove one, upload a DNC file.

Every step is the DNC domain code the API uses (``dialer.dnc.store``: scope resolution,
adding with the leads it blocks, removal rights; the API's number normalisation), and
the upload is ``POST /api/v1/dnc/lists`` itself acting as the session's principal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import asyncpg
from aiohttp import web

from dialer.auth.roles import Permission, Principal
from dialer.campaigns import store as campaigns
from dialer.clients import DEFAULT_CLIENT_ID, list_clients
from dialer.dnc import store
from dialer.errors import NotFound, ValidationError
from dialer.http import uploads
from dialer.http.jsonio import error_response
from dialer.http.keys import CLOCK, POOL
from dialer.inputs import check_fields
from dialer.instants import parse_instant
from dialer.ui.context import session
from dialer.ui.pages.lists import POLL_S, recent_imports
from dialer.ui.render import flash, is_htmx, render, render_partial, see_other
from dialer.ui.routing import UiRoutes
from dialer.ui.sessions import FlashKind
from dialer.ui.uploads import api_upload

routes = UiRoutes()
PAGE_SIZE = 50
SOURCES = ("internal", "crm", *store.REGISTRIES)
MODE_CHOICES = [("add", "Add to the list"), ("replace", "Replace the list (same source)")]
ADD_FIELDS = ("phone", "default_region", "source", "reason", "applies_to", "expires_at")
GLOBAL = "global"
CONFIRM_GLOBAL = (
    "every client: the number is blocked in all their campaigns; tick the box below to confirm"
)


@dataclass
class Scopes:
    """Where an entry may apply for this principal: ``applies_to`` values and names."""

    choices: list[tuple[str, str]] = field(default_factory=list)
    clients: dict[int, str] = field(default_factory=dict)
    campaigns: dict[int, str] = field(default_factory=dict)


async def _scopes(conn: asyncpg.Connection, who: Principal) -> Scopes:
    found = Scopes()
    found.clients = {c["id"]: c["name"] for c in await list_clients(conn, who.client_id)}
    rows = await campaigns.list_page(conn, who.client_id, limit=campaigns.PAGE_MAX)
    found.campaigns = {r["id"]: r["name"] for r in rows}
    for cid, name in found.campaigns.items():
        found.choices.append((f"campaign:{cid}", f"Campaign · {name}"))
    for cid, name in found.clients.items():
        found.choices.append((f"client:{cid}", f"Client · {name}"))
    if who.client_id is None:  # the widest last: it blocks every client's campaigns
        found.choices.append((GLOBAL, "Every client (global) — asks to confirm"))
    return found


def default_scope(scopes: Scopes, who: Principal, campaign: str) -> str:
    """The narrowest scope the person works in, never global: the campaign they came from
    (``?campaign=ID``), else their client (the default client for an unscoped token)."""
    offered = {key for key, _ in scopes.choices}
    for wanted in (f"campaign:{campaign}", f"client:{who.client_id or DEFAULT_CLIENT_ID}"):
        if wanted in offered:
            return wanted
    return next((key for key, _ in scopes.choices if key != GLOBAL), "")


def parse_applies_to(value: str | None) -> tuple[str | None, int | None, int | None]:
    """``global`` / ``client:7`` / ``campaign:12`` → (scope, client_id, campaign_id)."""
    if not value:
        return None, None, None
    kind, _, ident = value.partition(":")
    if kind == "global" and not ident:
        return "global", None, None
    if kind in ("client", "campaign") and ident.isdigit() and len(ident) < 19:
        number = int(ident)
        return (
            kind,
            (number if kind == "client" else None),
            (number if kind == "campaign" else None),
        )
    raise ValidationError("choose where the entry applies", field="applies_to")


def _expiry(text: str) -> datetime | None:
    """The form's expiry (a UTC date and time) as the API reads ``expires_at``."""
    if not text:
        return None
    return parse_instant(
        text if "+" in text or text.endswith("Z") else text + "+00:00", "expires_at"
    )


async def _search(
    conn: asyncpg.Connection, who: Principal, query: dict[str, str], after: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    phone = None
    try:
        source = store.check_source(query["source"]) if query["source"] else None
        if query["phone"]:
            phone = await store.dnc_number(
                conn,
                query["phone"],
                region=query["default_region"] or None,
                source=source,
                campaign_id=None,
                scope=who.client_id,
            )
    except ValidationError as exc:
        return [], {exc.field or "phone": exc.message[:1].upper() + exc.message[1:]}
    rows = await store.list_page(
        conn, who.client_id, phone=phone, source=source, after=after, limit=PAGE_SIZE
    )
    return [store.present(r) for r in rows], {}


async def _page(
    request: web.Request,
    *,
    add_values: dict[str, str] | None = None,
    add_errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    who = session(request).principal
    query = {k: request.query.get(k, "").strip() for k in ("phone", "default_region", "source")}
    after_text = request.query.get("after", "0")
    after = int(after_text) if after_text.isdigit() and len(after_text) < 19 else 0
    async with request.app[POOL].acquire() as conn:
        scopes = await _scopes(conn, who)
        entries, search_errors = await _search(conn, who, query, after)
        found_imports = await recent_imports(conn, "dnc", who.client_id, None)
    next_query = None
    if len(entries) == PAGE_SIZE:
        next_query = urlencode(
            {**{k: v for k, v in query.items() if v}, "after": entries[-1]["id"]}
        )
    narrowest = default_scope(scopes, who, request.query.get("campaign", ""))
    context = {
        "title": "Do not call",
        "section": "dnc",
        "query": query,
        "searched": bool(query["phone"] or query["source"]),
        "entries": entries,
        "search_errors": search_errors,
        "next_query": next_query,
        "after": after,
        "scopes": scopes,
        "sources": SOURCES,
        "source_choices": [(s, s) for s in SOURCES],
        "mode_choices": MODE_CHOICES,
        "add": add_values or {"source": "internal", "applies_to": narrowest},
        "add_errors": add_errors or {},
        "may_write": who.can(Permission.DNC_WRITE),
        "imports": found_imports,
        "poll_s": POLL_S,
    }
    return await render(request, "dnc/page.html", context, status=status)


@routes.get("/ui/dnc", permission=Permission.DNC_READ)
async def dnc_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/ui/dnc", permission=Permission.DNC_WRITE)
async def add_entry(request: web.Request) -> web.Response:
    """Add one number, as ``POST /api/v1/dnc`` does; errors next to their input."""
    who = session(request).principal
    form = check_fields(await request.post())
    values = {k: str(form.get(k, "")).strip() for k in ADD_FIELDS}
    now = request.app[CLOCK].now()
    try:
        scope, client_id, campaign_id = parse_applies_to(values["applies_to"])
        confirmed = form.get("confirm_global") == "yes"
        if scope == GLOBAL and who.client_id is None and not confirmed:
            raise ValidationError(CONFIRM_GLOBAL, field="applies_to")
        entry_in = store.NewEntry(
            phone=values["phone"],
            default_region=values["default_region"] or None,
            source=values["source"] or None,
            reason=values["reason"] or None,
            expires_at=_expiry(values["expires_at"]),
            client_id=client_id,
            campaign_id=campaign_id,
            scope=scope,
        )
        async with request.app[POOL].acquire() as conn:
            try:
                entry, created, blocked = await store.add_entry(conn, who, entry_in, now=now)
            except NotFound as exc:
                raise ValidationError(str(exc), field="applies_to") from None
    except ValidationError as exc:
        name = exc.field if exc.field in ADD_FIELDS else "phone"
        if exc.field in ("scope", "client_id", "campaign_id"):
            name = "applies_to"
        message = exc.message[:1].upper() + exc.message[1:]
        return await _page(request, add_values=values, add_errors={name: message}, status=400)
    if created:
        leads = f" {blocked} lead{'s' if blocked != 1 else ''} blocked." if blocked else ""
        await flash(request, "success", f"{entry['phone_e164']} added to the DNC list.{leads}")
    else:
        await flash(request, "info", f"{entry['phone_e164']} was already on that list.")
    return see_other("/ui/dnc?" + urlencode({"phone": entry["phone_e164"]}))


@routes.post(r"/ui/dnc/{id:\d+}/delete", permission=Permission.DNC_WRITE)
async def remove_entry(request: web.Request) -> web.Response:
    """Remove one entry (leads it made dnc stay dnc), as ``DELETE /api/v1/dnc/{id}``."""
    who = session(request).principal
    kind: FlashKind
    async with request.app[POOL].acquire() as conn:
        entry = await store.get(conn, int(request.match_info["id"]), who.client_id)
        try:
            await store.remove(conn, entry["id"], who)
        except ValidationError as exc:
            kind, text, gone = "error", exc.message[:1].upper() + exc.message[1:] + ".", False
        else:
            kind, text, gone = "success", f"{entry['phone_e164']} removed from the DNC list.", True
    if is_htmx(request):
        message = [{"kind": kind, "text": text}]
        if not gone:  # the row stays; the message goes where errors go (see base.html)
            return render_partial(request, "_flash.html", {"flash": message}, status=409)
        return render_partial(request, "dnc/_removed.html", {"flash": message})
    await flash(request, kind, text)
    return see_other("/ui/dnc")


@routes.post("/ui/dnc/lists", permission=Permission.DNC_WRITE, header_csrf=True)
async def upload_dnc(request: web.Request) -> web.StreamResponse:
    """A DNC file streamed by the page: ``POST /api/v1/dnc/lists`` as this session (the
    form's "applies to" choice becomes the API's scope, client_id or campaign_id)."""
    params = {k: v for k, v in request.query.items() if k != "applies_to"}
    try:
        scope, client_id, campaign_id = parse_applies_to(request.query.get("applies_to"))
    except ValidationError as exc:
        return error_response(400, exc.message, field=exc.field)
    for key, value in (("scope", scope), ("client_id", client_id), ("campaign_id", campaign_id)):
        if value is not None:
            params[key] = str(value)
    api_request = request.clone(rel_url=request.rel_url.with_query(params))
    return await api_upload(api_request, uploads.upload_dnc_list)
