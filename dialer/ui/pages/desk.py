"""The agent desktop: log in, ready, pause, log out; the screen pop of each call over a
WebSocket; the disposition form.

An ``agent`` token opens only its own agent's desktop; managers (and admins) may open the
desktop of any agent of their client, as the API allows them to act for those agents.
State changes are ``agents.store.act``; dispositions ``engine.dispositions.
record_disposition``; the events are ``GET /api/v1/agents/{id}/events`` itself, served
over a console WebSocket that the session cookie authenticates (browsers cannot send an
Authorization header on a WebSocket) after checking the page's Origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiohttp import web

from dialer.agents import store as agents
from dialer.auth.roles import Permission, Principal
from dialer.campaigns import codes
from dialer.engine import manual
from dialer.engine.dispositions import record_disposition
from dialer.errors import Conflict, NotFound, ValidationError
from dialer.http import agentstream
from dialer.http.keys import CLOCK, POOL
from dialer.inputs import check_fields
from dialer.ui import sessions
from dialer.ui.context import session
from dialer.ui.render import error_page, flash, is_htmx, redirect, render, render_partial, see_other
from dialer.ui.routing import UiRoutes
from dialer.ui.sessions import FlashKind

routes = UiRoutes()
ID = r"{id:\d+}"
FORM_FIELDS = ("call_id", "disposition", "callback_at", "callback_zone", "callback_owner", "notes")
DONE = {"login": "You are logged in and ready for calls.", "ready": "You are ready for calls.",
        "pause": "You are paused.", "logout": "You are logged out."}  # fmt: skip


class Refused(Exception):
    """This principal may not act as that agent (a 403 page)."""


def may_act_for(who: Principal, agent_id: int) -> bool:
    """The API's rule: an agent token acts as its own agent; others need agents.write."""
    if who.agent_id is not None:
        return who.agent_id == agent_id
    return who.can(Permission.AGENTS_WRITE)


async def _agent(conn: asyncpg.Connection, who: Principal, agent_id: int) -> dict[str, Any]:
    """The agent, if ``who`` may act for it: 404 for another client's, else Refused."""
    row = await agents.get(conn, agent_id, who.client_id)
    if not may_act_for(who, agent_id):
        raise Refused
    return row


def _refused(request: web.Request) -> web.Response:
    return error_page(
        request, 403, "Not your desktop", "An agent may only open their own agent desktop."
    )


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def initial_messages(request: web.Request, agent: dict[str, Any]) -> list[dict[str, Any]]:
    """What a desktop that connects now must know: the agent's state and, during a call or
    its wrap-up, the call's screen pop (or the lead being previewed), shaped exactly as the
    events WebSocket shapes them."""
    out = [agentstream.state_message(agent)]
    if agent["state"] in ("on_call", "wrap_up") and (
        agent["attempt_id"] or agent["preview_lead_id"]
    ):
        as_call = {
            "event": "state",
            "state": "on_call",
            "attempt": agent["attempt_id"],
            "lead": agent["preview_lead_id"],
        }
        out += [
            m for m in await agentstream.desk_messages(request, as_call) if m["type"] != "state"
        ]
    return out


@routes.get("/ui/desk", permission=Permission.AGENT_SELF)
async def desk_home(request: web.Request) -> web.Response:
    """An agent goes to their desktop; a manager picks one of their client's agents."""
    who = session(request).principal
    if who.agent_id is not None:
        return see_other(f"/ui/agents/{who.agent_id}")
    async with request.app[POOL].acquire() as conn:
        rows = await agents.list_page(conn, who.client_id, limit=agents.PAGE_MAX)
    people = [r for r in rows if not r["simulated"]]
    context = {
        "title": "Agent desktop",
        "section": "desk",
        "agents": people,
        "simulated": len(rows) - len(people),
        "may_open": who.can(Permission.AGENTS_WRITE),
    }
    return await render(request, "desk/agents.html", context)


async def _status_context(request: web.Request, agent: dict[str, Any]) -> dict[str, Any]:
    async with request.app[POOL].acquire() as conn:
        pauses = await codes.agent_pause_codes(conn, agent["id"])
    return {
        "agent": agent,
        "pause_codes": [(p.code, p.label) for p in pauses],
        "now": request.app[CLOCK].now(),
    }


async def _dispositions(
    conn: asyncpg.Connection, agent: dict[str, Any], call_id: str = ""
) -> list[codes.Disposition]:
    """The dispositions the form offers: those of the call's campaign, else of the agent's
    current (or first) campaign; the desk's script swaps them at each screen pop."""
    campaign_id = agent.get("campaign_id")
    if call_id.isdigit():
        campaign_id = await conn.fetchval(
            "SELECT campaign_id FROM attempts WHERE id = $1", int(call_id)
        ) or campaign_id  # fmt: skip
    if campaign_id is None:
        campaign_id = await conn.fetchval(
            "SELECT min(campaign_id) FROM agent_campaigns WHERE agent_id = $1", agent["id"]
        )
    if campaign_id is None:
        return list(codes.DEFAULT_DISPOSITIONS)
    return await codes.dispositions(conn, campaign_id)


@routes.get(f"/ui/agents/{ID}", permission=Permission.AGENT_SELF)
async def desktop(request: web.Request) -> web.Response:
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        try:
            agent = await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
        dispositions = await _dispositions(conn, agent)
        manual_campaigns = await _manual_campaigns(conn, agent["id"])
    context = {
        "manual_campaigns": manual_campaigns,
        "manual_form": {},
        "manual_errors": {},
        "manual_result": None,
        "title": f"Desktop · {agent['name']}",
        "section": "desk",
        "initial": await initial_messages(request, agent),
        "dispositions": dispositions,
        "form": {"callback_zone": "lead", "callback_owner": "agent"},
        "errors": {},
        "own": who.agent_id == agent["id"],
        **await _status_context(request, agent),
    }
    return await render(request, "desk/page.html", context)


@routes.get(f"/ui/agents/{ID}/status", permission=Permission.AGENT_SELF)
async def status_card(request: web.Request) -> web.Response:
    """The state card (htmx): refreshed by the desktop after each state event."""
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        try:
            agent = await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
    return render_partial(request, "desk/_status.html", await _status_context(request, agent))


@routes.post(
    f"/ui/agents/{ID}/{{action:login|ready|pause|logout}}", permission=Permission.AGENT_SELF
)
async def agent_action(request: web.Request) -> web.Response:
    who = session(request).principal
    action = request.match_info["action"]
    form = check_fields(await request.post())
    reason = str(form.get("reason") or "").strip() or None
    kind: FlashKind
    async with request.app[POOL].acquire() as conn:
        try:
            await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
        try:
            if reason is not None and len(reason) > 100:
                raise ValidationError("reason must be a string of 1-100 characters", field="reason")
            if action == "pause":
                await codes.check_pause_code(conn, _id(request), reason)
            agent, step = await agents.act(
                conn, _id(request), action, scope=who.client_id, now=request.app[CLOCK].now(),
                reason=reason,
            )  # fmt: skip
        except (Conflict, ValidationError) as exc:
            agent = await agents.get(conn, _id(request), who.client_id)
            kind, text = "error", exc.message[:1].upper() + exc.message[1:] + "."
        else:
            kind, text = "success", DONE[action]
            if step.pending:  # after the call, or held while calls ring (agents.holds)
                later = "paused" if step.pending == "pause" else "logged out"
                held = agent["state"] == "available"
                when = "once the calls ringing for you are" if held else "when this call is"
                kind, text = "info", f"You will be {later} {when} over."
    if is_htmx(request):
        context = {**await _status_context(request, agent), "flash": [{"kind": kind, "text": text}]}
        return render_partial(request, "desk/_status.html", context | {"oob_flash": True})
    await flash(request, kind, text)
    return redirect(request, f"/ui/agents/{agent['id']}")


@routes.post(f"/ui/agents/{ID}/{{choice:dial|skip}}", permission=Permission.AGENT_SELF)
async def preview_choice(request: web.Request) -> web.Response:
    """Preview mode: dial the lead on screen, or pass on it."""
    who = session(request).principal
    choice = request.match_info["choice"]
    kind: FlashKind
    async with request.app[POOL].acquire() as conn:
        try:
            await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
        try:
            await agents.preview_choice(conn, _id(request), choice, scope=who.client_id)
        except Conflict as exc:
            kind, text = "error", exc.message[:1].upper() + exc.message[1:] + "."
        else:
            kind, text = "success", "Dialing…" if choice == "dial" else "Lead skipped."
    if is_htmx(request):
        message = [{"kind": kind, "text": text}]
        return render_partial(request, "_flash.html", {"flash": message, "oob": True})
    await flash(request, kind, text)
    return see_other(f"/ui/agents/{_id(request)}")


async def _manual_campaigns(conn: asyncpg.Connection, agent_id: int) -> list[tuple[int, str]]:
    rows = await conn.fetch(
        "SELECT c.id, c.name FROM agent_campaigns ac JOIN campaigns c ON c.id = ac.campaign_id"
        " WHERE ac.agent_id = $1 AND c.deleted_at IS NULL ORDER BY c.name",
        agent_id,
    )
    return [(r["id"], r["name"]) for r in rows]


@routes.post(f"/ui/agents/{ID}/manual", permission=Permission.AGENT_SELF)
async def manual_dial(request: web.Request) -> web.Response:
    """Manual dial from the desk: ``engine.manual.request_dial``, as the API."""
    who = session(request).principal
    posted = check_fields(await request.post())
    form = {k: str(v).strip() for k, v in posted.items() if k in ("phone", "campaign_id")}
    errors: dict[str, str] = {}
    result: dict[str, Any]
    async with request.app[POOL].acquire() as conn:
        try:
            await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
        campaigns = await _manual_campaigns(conn, _id(request))
        try:
            cid = form.get("campaign_id", "")
            body = {
                "phone": form.get("phone", ""),
                "campaign_id": int(cid) if cid.isdigit() and len(cid) < 18 else 0,
            }
            req = manual.parse(_id(request), body)
            got = await manual.request_dial(conn, req, who=who, now=request.app[CLOCK].now())
        except manual.Refused as exc:
            refusal = exc.to_dict()
            result = {"kind": "error", "text": _sentence(exc.message), **refusal}
        except ValidationError as exc:
            errors[exc.field if exc.field in ("phone", "campaign_id") else "phone"] = _sentence(
                exc.message
            )
            result = {"kind": "error", "text": "The dial needs a correction."}
        except (Conflict, NotFound) as exc:
            result = {"kind": "error", "text": _sentence(str(exc))}
        else:
            result = {
                "kind": "success",
                "text": f"Dialing {got['phone']} (call {got['attempt_id']})…",
            }
            form = {"campaign_id": form.get("campaign_id", "")}
    context = {
        "agent_id": _id(request),
        "manual_campaigns": campaigns,
        "manual_form": form,
        "manual_errors": errors,
        "manual_result": result,
    }
    if is_htmx(request):
        return render_partial(request, "desk/_manual.html", context)
    await flash(request, "success" if result["kind"] == "success" else "error", result["text"])
    return see_other(f"/ui/agents/{_id(request)}")


def _sentence(message: str) -> str:
    text = message[:1].upper() + message[1:]
    return text if text.endswith((".", "…")) else text + "."


def disposition_body(form: dict[str, str]) -> dict[str, Any]:
    """The form's inputs as the disposition API's body. A callback time without a zone is
    the lead's local time (the API reads it so); "UTC" makes it an instant."""
    body: dict[str, Any] = {"disposition": form.get("disposition", "")}
    when = form.get("callback_at", "").strip()
    if when:
        body["callback_at"] = when if form.get("callback_zone") != "utc" else when + "+00:00"
        body["callback_owner"] = "anyone" if form.get("callback_owner") == "anyone" else "agent"
    body["dnc"] = form.get("dnc") == "on"
    notes = form.get("notes", "").strip()
    if notes:
        body["notes"] = notes
    return body


@routes.post(f"/ui/agents/{ID}/disposition", permission=Permission.AGENT_SELF)
async def disposition(request: web.Request) -> web.Response:
    """The disposition form: ``record_disposition`` for the call on screen."""
    who = session(request).principal
    posted = check_fields(await request.post())
    form = {k: str(v) for k, v in posted.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    kind: FlashKind = "success"
    text = ""
    async with request.app[POOL].acquire() as conn:
        try:
            await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
        call = form.get("call_id", "")
        try:
            if not call.isdigit() or len(call) > 18:
                raise Conflict("there is no call on screen to disposition", field="call")
            row = await record_disposition(
                conn, int(call), disposition_body(form), who=who, now=request.app[CLOCK].now()
            )
        except ValidationError as exc:
            errors[exc.field if exc.field in FORM_FIELDS else "disposition"] = (
                exc.message[:1].upper() + exc.message[1:]
            )
            kind, text = "error", "The disposition needs a correction."
        except (Conflict, NotFound) as exc:
            message = exc.message if isinstance(exc, Conflict) else str(exc)
            kind, text = "error", message[:1].upper() + message[1:] + "."
        else:
            text = f"Call saved as “{row['disposition'].replace('_', ' ')}”."
            form = {"callback_zone": "lead", "callback_owner": "agent"}
        agent = await agents.get(conn, _id(request), who.client_id)
        dispositions = await _dispositions(conn, agent, call)
    context = {
        "form": form,
        "errors": errors,
        "dispositions": dispositions,
        "agent_id": _id(request),
        "flash": [{"kind": kind, "text": text}],
        "saved": not errors and kind == "success",
    }
    if is_htmx(request):
        return render_partial(request, "desk/_disposition.html", context | {"oob_flash": True})
    await flash(request, kind, text)
    return see_other(f"/ui/agents/{_id(request)}")


def same_origin(request: web.Request) -> bool:
    """Whether the WebSocket was opened by a page of this site (Origin matches Host)."""
    origin = request.headers.get("Origin")
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


@routes.get(f"/ui/agents/{ID}/events", permission=Permission.AGENT_SELF)
async def agent_events(request: web.Request) -> web.StreamResponse:
    """The desktop's WebSocket: exactly what ``/api/v1/agents/{id}/events`` sends, to a
    page of this console (Origin check) signed in as the agent or a manager of its client."""
    if not same_origin(request):
        return error_page(
            request, 403, "Request refused", "This connection did not come from the console."
        )
    who = session(request).principal
    async with request.app[POOL].acquire() as conn:
        try:
            await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
    current, clock = session(request), request.app[CLOCK]

    async def still_valid() -> bool:  # signing out ends the screen pops too
        return await sessions.alive(request.app[POOL], current, now=clock.now())

    return await agentstream.stream_agent_events(request, still_valid)
