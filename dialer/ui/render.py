"""Rendering console pages: the base context every template sees, navigation, security
headers, redirects and flash messages.

A full page takes the session's queued flash messages; an htmx partial leaves them queued
(it returns its own messages out of band, see ``templates/_flash.html``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from dialer.auth.roles import Permission, Principal
from dialer.http.keys import POOL
from dialer.ui import sessions
from dialer.ui.context import CONSOLE, STATIC_PREFIX, current_session

# Content-Security-Policy: only our own scripts and styles; no framing; forms post home.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    """One entry of the console's navigation, shown to principals with its permission."""

    key: str
    label: str
    path: str
    permission: Permission
    icon: str  # name of a symbol in templates/_icons.html


# Order of the navigation; a principal lands on the first item its role may see (agents on
# their desktop). A campaign's live view and lead lists are reached from the campaign.
NAV: list[NavItem] = [
    NavItem("campaigns", "Campaigns", "/ui/campaigns", Permission.CAMPAIGNS_READ, "megaphone"),
    NavItem("dnc", "Do not call", "/ui/dnc", Permission.DNC_READ, "shield"),
    NavItem("reports", "Agent report", "/ui/reports/agents", Permission.STATS_READ, "user"),
    NavItem("leads", "Find a lead", "/ui/leads", Permission.LEADS_READ, "search"),
    NavItem("desk", "Agent desktop", "/ui/desk", Permission.AGENT_SELF, "headset"),
    NavItem("rules", "Calling rules", "/ui/rules", Permission.RULES_READ, "scale"),
    NavItem("users", "Users", "/ui/users", Permission.USERS_WRITE, "user"),
]


def visible_nav(who: Principal) -> list[NavItem]:
    return [item for item in NAV if who.can(item.permission)]


def home_path(who: Principal) -> str | None:
    """The first page this principal may see (None: the role has no console page yet)."""
    items = visible_nav(who)
    return items[0].path if items else None


def is_htmx(request: web.Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def static_url(request: web.Request, name: str) -> str:
    version = request.app[CONSOLE].static_versions.get(name)
    return f"{STATIC_PREFIX}{name}" + (f"?v={version}" if version else "")


def _base_context(request: web.Request) -> dict[str, Any]:
    current = current_session(request)
    who = current.principal if current else None
    return {
        "request": request,
        "session": current,
        "principal": who,
        "csrf_token": current.csrf_token if current else "",
        "nav": visible_nav(who) if who else [],
        "static": lambda name: static_url(request, name),
        "Permission": Permission,
    }


def _respond(text: str, status: int, headers: Mapping[str, str] | None) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html")
    response.headers.update(SECURITY_HEADERS)
    if headers:
        response.headers.update(headers)
    return response


async def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A full page: base context + queued flash messages + ``context``."""
    values = _base_context(request)
    current = current_session(request)
    values["flash"] = await sessions.take_flash(request.app[POOL], current) if current else []
    values.update(context or {})
    text = aiohttp_jinja2.render_string(template, request, values)
    return _respond(text, status, headers)


def render_partial(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A fragment for htmx to swap in (flash messages passed in ``context``, if any)."""
    values = _base_context(request)
    values.setdefault("flash", [])
    values.update(context or {})
    text = aiohttp_jinja2.render_string(template, request, values)
    return _respond(text, status, headers)


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    """An error page; for htmx a flash fragment (base.html's htmx-config swaps 4xx/5xx
    responses into the page's message area instead of the request's target). Queued flash
    messages stay queued: an error page must render even when the database is away."""
    if is_htmx(request):
        message_only = [{"kind": "error", "text": f"{title}: {message}"}]
        return render_partial(request, "_flash.html", {"flash": message_only}, status=status)
    context = {"status": status, "title": title, "message": message}
    return render_partial(request, "error.html", context, status=status)


def see_other(location: str) -> web.Response:
    """303 to ``location`` (after a POST the browser GETs the next page)."""
    response = web.Response(status=303, headers={"Location": location})
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(request: web.Request, location: str) -> web.Response:
    """Go to ``location``: a 303 for a plain form, an ``HX-Redirect`` for htmx."""
    if is_htmx(request):
        response = web.Response(status=204, headers={"HX-Redirect": location})
        response.headers.update(SECURITY_HEADERS)
        return response
    return see_other(location)


def sign_in_url(next_path: str | None = None, reason: str | None = None) -> str:
    params = {k: v for k, v in (("next", next_path), ("reason", reason)) if v}
    return "/ui/sign-in" + (f"?{urlencode(params)}" if params else "")


async def flash(request: web.Request, kind: sessions.FlashKind, text: str) -> None:
    """Queue a message for the next full page of this session."""
    current = current_session(request)
    if current is not None:
        await sessions.push_flash(request.app[POOL], current, kind, text)
