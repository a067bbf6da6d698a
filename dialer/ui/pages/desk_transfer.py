"""The desk's transfer card: transfer (blind, warm) or conference the agent's live call to an
agent, a campaign or a number, then complete / cancel a warm transfer or leave a conference.
The same domain calls as ``/api/v1/calls/{id}/transfer`` (``engine.transferask``); the card
follows the leg while one is in progress (htmx, every second)."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from dialer.auth.roles import Permission
from dialer.engine import transferask
from dialer.engine.manual import Refused as RulesRefused
from dialer.errors import Conflict, Forbidden, NotFound, ValidationError
from dialer.http.keys import CLOCK, POOL
from dialer.inputs import check_fields
from dialer.ui.context import session
from dialer.ui.pages.desk import ID, Refused, _agent, _id, _refused
from dialer.ui.render import render_partial
from dialer.ui.routing import UiRoutes

routes = UiRoutes()
FIELDS = ("mode", "to_agent", "to_campaign", "to_phone", "xfer_notes")
STATES = {
    "requested": "Transfer asked for…",
    "queued": "Waiting for a free agent of the campaign (the caller hears music)…",
    "ringing": "Ringing the target…",
    "consulting": "You are talking to the target; the caller hears music.",
    "joined": "Conference: the three of you are talking.",
}


async def _context(conn: asyncpg.Connection, agent: dict[str, Any]) -> dict[str, Any]:
    """The agent's live call, its open leg and the targets to pick from."""
    call = None
    if agent["state"] == "on_call" and agent["attempt_id"] is not None:
        call = await conn.fetchrow(
            "SELECT id FROM attempts WHERE id = $1 AND connected_at IS NOT NULL"
            " AND ended_at IS NULL AND agent_id = $2",
            agent["attempt_id"],
            agent["id"],
        )
    leg = None
    if call is not None:
        leg = await conn.fetchrow(
            "SELECT id, leg, leg_state FROM attempts"
            " WHERE parent_attempt_id = $1 AND ended_at IS NULL",
            call["id"],
        )
    agents = await conn.fetch(
        "SELECT id, name, state FROM agents WHERE client_id = $1 AND deleted_at IS NULL"
        " AND id <> $2 AND state <> 'offline' ORDER BY lower(name)",
        agent["client_id"],
        agent["id"],
    )
    campaigns = await conn.fetch(
        "SELECT id, name FROM campaigns WHERE client_id = $1 AND deleted_at IS NULL"
        " AND state = 'running' ORDER BY lower(name)",
        agent["client_id"],
    )
    return {
        "agent_id": agent["id"],
        "xfer_call": None if call is None else call["id"],
        "xfer_leg": None if leg is None else dict(leg),
        # on a call that is not connected yet: the card looks again until it is
        "xfer_waiting": agent["state"] == "on_call" and call is None,
        "xfer_state": None if leg is None else STATES.get(leg["leg_state"], leg["leg_state"]),
        "xfer_agents": [("", "—")] + [(a["id"], f"{a['name']} ({a['state']})") for a in agents],
        "xfer_campaigns": [("", "—")] + [(c["id"], c["name"]) for c in campaigns],
        "xfer_form": {},
        "xfer_errors": {},
        "xfer_result": None,
    }


async def card_context(conn: asyncpg.Connection, agent: dict[str, Any]) -> dict[str, Any]:
    return await _context(conn, agent)


@routes.get(f"/ui/agents/{ID}/transfer", permission=Permission.AGENT_SELF)
async def transfer_card(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        try:
            agent = await _agent(conn, session(request).principal, _id(request))
        except Refused:
            return _refused(request)
        context = await _context(conn, agent)
    return render_partial(request, "desk/_transfer.html", context)


def _body(form: dict[str, str]) -> tuple[dict[str, Any], bool]:
    """The API body for the form, and whether it is a conference."""
    targets = [
        (key, form.get(field, ""))
        for key, field in (("agent_id", "to_agent"), ("campaign_id", "to_campaign"))
        if form.get(field, "")
    ]
    phone = form.get("to_phone", "")
    to: dict[str, Any] = {}
    if len(targets) + bool(phone) != 1:
        raise ValidationError("choose one target: an agent, a campaign or a number", field="to")
    if phone:
        to = {"phone": phone}
    else:
        key, value = targets[0]
        if not value.isdigit() or len(value) > 18:
            raise ValidationError("choose a target from the list", field="to")
        to = {key: int(value)}
    mode = form.get("mode", "blind")
    body: dict[str, Any] = {"to": to, "notes": form.get("xfer_notes") or None}
    if mode == "conference":
        return body, True
    return {**body, "mode": mode}, False


@routes.post(f"/ui/agents/{ID}/transfer", permission=Permission.AGENT_SELF)
async def transfer(request: web.Request) -> web.Response:
    who = session(request).principal
    posted = check_fields(await request.post())
    form = {k: str(v).strip() for k, v in posted.items() if k in FIELDS}
    async with request.app[POOL].acquire() as conn:
        try:
            agent = await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
        context = await _context(conn, agent)
        errors: dict[str, str] = {}
        result: dict[str, Any]
        try:
            if context["xfer_call"] is None:
                raise Conflict("you have no live call to transfer", field="call")
            body, conference = _body(form)
            got = await transferask.request(
                conn,
                context["xfer_call"],
                body,
                who=who,
                now=request.app[CLOCK].now(),
                conference=conference,
            )
            result = {"kind": "success", "text": f"{got['leg'].capitalize()} to {_say(got)}…"}
            form = {}
        except RulesRefused as exc:
            result = {"kind": "error", "text": exc.message, **exc.to_dict()}
        except ValidationError as exc:
            field = {"to.agent_id": "to_agent", "to.campaign_id": "to_campaign"}.get(
                exc.field or "", "to_phone" if (exc.field or "").startswith("to") else "xfer_notes"
            )
            errors[field] = exc.message
            result = {"kind": "error", "text": "The transfer needs a correction."}
        except (Conflict, NotFound, Forbidden) as exc:
            result = {"kind": "error", "text": str(exc)}
        context = await _context(conn, agent)
    context.update(xfer_form=form, xfer_errors=errors, xfer_result=result)
    return render_partial(request, "desk/_transfer.html", context)


def _say(got: dict[str, Any]) -> str:
    to = got["to"]
    if "agent_id" in to:
        return f"agent {to['agent_id']}"
    if "campaign_id" in to:
        return f"campaign {to['campaign_id']}"
    return str(to.get("phone"))


@routes.post(
    f"/ui/agents/{ID}/transfer/{{op:complete|cancel|leave}}", permission=Permission.AGENT_SELF
)
async def control(request: web.Request) -> web.Response:
    who = session(request).principal
    op = request.match_info["op"]
    check_fields(await request.post())
    async with request.app[POOL].acquire() as conn:
        try:
            agent = await _agent(conn, who, _id(request))
        except Refused:
            return _refused(request)
        context = await _context(conn, agent)
        try:
            if context["xfer_call"] is None:
                raise Conflict("you have no live call", field="call")
            await transferask.control(
                conn, context["xfer_call"], op, who=who, now=request.app[CLOCK].now()
            )
            done = {"complete": "Completing the transfer…", "cancel": "Cancelling…"}
            result = {"kind": "success", "text": done.get(op, "Leaving the conference…")}
        except (Conflict, NotFound, Forbidden) as exc:
            result = {"kind": "error", "text": str(exc)}
    context["xfer_result"] = result
    return render_partial(request, "desk/_transfer.html", context)


__all__ = ["card_context", "routes"]
