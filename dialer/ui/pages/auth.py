"""Signing in with an API token, signing out, and the console's home address."""

from __future__ import annotations

import logging

from aiohttp import web

from dialer.auth.tokens import authenticate
from dialer.http.keys import CLOCK, POOL
from dialer.inputs import check_fields
from dialer.ui import csrf, sessions
from dialer.ui.context import current_session, session
from dialer.ui.cookies import SESSION_COOKIE, clear_cookie, set_cookie
from dialer.ui.middleware import signing_key
from dialer.ui.render import home_path, render, see_other, sign_in_url
from dialer.ui.routing import UiRoutes

log = logging.getLogger("dialer.ui")
routes = UiRoutes()

NOTICES = {
    "expired": "Your session expired. Sign in again to continue.",
    "revoked": "The token this session used has been revoked. Sign in with a current token.",
    "signed-out": "You are signed out.",
}
SIGNIN_COOKIE_AGE = 3600 * 12


def safe_next(value: object) -> str | None:
    """Only a console path may be the page after sign-in (never another site)."""
    if not isinstance(value, str) or not value.startswith("/ui/"):
        return None
    if any(ch in value for ch in "\\\r\n") or len(value) > 1000:
        return None
    return value


async def _sign_in_page(
    request: web.Request, *, next_path: str | None, error: str | None = None, status: int = 200
) -> web.Response:
    key = signing_key(request.app)
    nonce, fresh = csrf.signin_nonce(request, key)
    notice = NOTICES.get(request.query.get("reason", ""))
    context = {"title": "Sign in", "nonce": nonce, "next": next_path, "error": error}
    response = await render(request, "sign_in.html", context | {"notice": notice}, status=status)
    if fresh:
        set_cookie(
            response,
            request,
            csrf.SIGNIN_COOKIE,
            csrf.signin_cookie_value(key, nonce),
            max_age=SIGNIN_COOKIE_AGE,
        )
    return response


@routes.get("/ui/sign-in", permission=None, public=True)
async def sign_in_form(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    current = current_session(request)
    if current is not None:
        return see_other(next_path or home_path(current.principal) or "/ui/")
    return await _sign_in_page(request, next_path=next_path)


@routes.post("/ui/sign-in", permission=None, public=True)
async def sign_in(request: web.Request) -> web.Response:
    form = check_fields(await request.post())
    next_path = safe_next(form.get("next"))
    key = signing_key(request.app)
    if not csrf.signin_token_valid(request, key, _text(form.get(csrf.FIELD))):
        return await _sign_in_page(
            request,
            next_path=next_path,
            error="The sign-in form had expired. Paste your token again.",
            status=403,
        )
    token = _text(form.get("token")).strip()
    if not token:
        return await _sign_in_page(
            request, next_path=next_path, error="Paste your API token.", status=400
        )
    app = request.app
    now = app[CLOCK].now()
    who = await authenticate(app[POOL], token, now=now)
    if who is None:
        return await _sign_in_page(
            request,
            next_path=next_path,
            error="That token is not valid or has been revoked.",
            status=400,
        )
    async with app[POOL].acquire() as conn:
        cookie, _ = await sessions.start(conn, who, key=key, now=now)
    log.info("console sign-in", extra={"token_id": who.token_id, "role": who.role})
    response = see_other(next_path or home_path(who) or "/ui/")
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        cookie,
        max_age=int(sessions.MAX_AGE.total_seconds()),
    )
    clear_cookie(response, request, csrf.SIGNIN_COOKIE)
    return response


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@routes.post("/ui/sign-out", permission=None)
async def sign_out(request: web.Request) -> web.Response:
    await sessions.end(request.app[POOL], session(request))
    response = see_other(sign_in_url(reason="signed-out"))
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@routes.get("/ui/", permission=None)
async def home(request: web.Request) -> web.Response:
    who = session(request).principal
    target = home_path(who)
    if target is not None:
        return see_other(target)
    return await render(request, "empty_home.html", {"title": "Console"})
