"""Signing in (user name and password, or an API token), signing out, and the console's
home address."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from dialer.auth.roles import Principal
from dialer.auth.signin import Attempt, SignInRefused
from dialer.auth.signin import sign_in as password_sign_in
from dialer.auth.tokens import authenticate
from dialer.http.keys import CLOCK, POOL, SETTINGS
from dialer.inputs import check_fields
from dialer.secrets import secret_box
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
    "revoked": "Your access has ended: the token has been revoked or the user disabled.",
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
    request: web.Request,
    *,
    next_path: str | None,
    error: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    key = signing_key(request.app)
    nonce, fresh = csrf.signin_nonce(request, key)
    notice = NOTICES.get(request.query.get("reason", ""))
    context = {
        "title": "Sign in",
        "nonce": nonce,
        "next": next_path,
        "error": error,
        "errors": errors or {},
        "form": form or {},
    }
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
            error="The sign-in form had expired. Sign in again.",
            status=403,
        )
    if "token" in form:
        who_or_page = await _by_token(request, _text(form.get("token")).strip(), next_path)
    else:
        who_or_page = await _by_password(request, form, next_path)
    if isinstance(who_or_page, web.Response):
        return who_or_page
    who, app, now = who_or_page, request.app, request.app[CLOCK].now()
    async with app[POOL].acquire() as conn:
        cookie, _ = await sessions.start(conn, who, key=key, now=now)
    log.info(
        "console sign-in",
        extra={"token_id": who.token_id, "user_id": who.user_id, "role": who.role},
    )
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


async def _by_token(
    request: web.Request, token: str, next_path: str | None
) -> Principal | web.Response:
    if not token:
        return await _sign_in_page(
            request, next_path=next_path, error="Paste your API token.", status=400
        )
    app = request.app
    who = await authenticate(app[POOL], token, now=app[CLOCK].now())
    if who is None:
        return await _sign_in_page(
            request,
            next_path=next_path,
            error="That token is not valid or has been revoked.",
            status=400,
        )
    return who


async def _by_password(
    request: web.Request, form: Any, next_path: str | None
) -> Principal | web.Response:
    """A user name and password (and a TOTP code when the user has a second factor)."""
    name = _text(form.get("username")).strip()
    shown = {"username": name}
    if not name or not _text(form.get("password")):
        field = "username" if not name else "password"
        text = "Enter your user name." if not name else "Enter your password."
        return await _sign_in_page(
            request, next_path=next_path, status=400, errors={field: text}, form=shown
        )
    app = request.app
    attempt = Attempt(
        name=name[:100],
        password=_text(form.get("password"))[:200],
        code=_text(form.get("code"))[:20],
        address=request.remote or "unknown",
    )
    try:
        return await password_sign_in(
            app[POOL],
            attempt,
            secret_box(app[SETTINGS]),
            require_2fa=app[SETTINGS].require_2fa,
            now=app[CLOCK].now(),
        )
    except SignInRefused as refused:
        page = await _sign_in_page(
            request,
            next_path=next_path,
            status=refused.status,
            errors={refused.field: refused.message},
            form=shown | {"needs_code": "1" if refused.field == "code" else ""},
        )
        if refused.retry_at is not None:
            wait = (refused.retry_at - app[CLOCK].now()).total_seconds()
            page.headers["Retry-After"] = str(max(1, int(wait)))
        return page


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
