"""Console route tables: each page module declares its pages with the permission they need.

The guard in front of every page does, in order: send a visitor without a session to the
sign-in page; refuse a state-changing request without the session's CSRF token (403 page);
refuse a principal whose role lacks the page's permission (403 page) — the same
``Principal.can`` check, from the same role table, as the API's route guard.

The session's principal is also set as the request's API principal, so a page may hand the
request to an API handler (an upload, a CSV download, the agent events) and be served
exactly as that token would be through ``/api/v1``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from dialer.auth.roles import Permission
from dialer.http.keys import PRINCIPAL
from dialer.ui import csrf
from dialer.ui.context import SESSION_ENDED, current_session
from dialer.ui.render import error_page, is_htmx, redirect, sign_in_url

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    handler: Handler
    permission: Permission | None  # None: any signed-in principal
    public: bool = False  # no session needed (sign-in); the handler guards itself
    header_csrf: bool = False  # streamed bodies: the CSRF token must come in the header


class UiRoutes:
    """The pages of one console module."""

    def __init__(self) -> None:
        self.pages: list[Page] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        permission: Permission | None,
        public: bool = False,
        header_csrf: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.pages.append(Page(method, path, handler, permission, public, header_csrf))
            return handler

        return register

    def get(
        self, path: str, *, permission: Permission | None, public: bool = False
    ) -> Callable[[Handler], Handler]:
        return self.route("GET", path, permission=permission, public=public)

    def post(
        self,
        path: str,
        *,
        permission: Permission | None,
        public: bool = False,
        header_csrf: bool = False,
    ) -> Callable[[Handler], Handler]:
        return self.route(
            "POST", path, permission=permission, public=public, header_csrf=header_csrf
        )


def _guard(page: Page) -> Handler:
    if page.public:
        return page.handler

    async def guarded(request: web.Request) -> web.StreamResponse:
        current = current_session(request)
        if current is None:
            reason = request.get(SESSION_ENDED)
            back = (
                request.path_qs if request.method in SAFE_METHODS and not is_htmx(request) else None
            )
            return redirect(request, sign_in_url(back, reason))
        if request.method not in SAFE_METHODS:
            given = await csrf.submitted_token(request, header_only=page.header_csrf)
            if not csrf.matches(current.csrf_token, given):
                return error_page(
                    request,
                    403,
                    "Request refused",
                    "This form was not sent from this console (its security token is missing "
                    "or stale). Reload the page and try again.",
                )
        who = current.principal
        if page.permission is not None and not who.can(page.permission):
            return error_page(
                request,
                403,
                "Not allowed",
                f"Your role ({who.role}) may not {page.permission.value.replace('.', ' ')}.",
            )
        request[PRINCIPAL] = who
        return await page.handler(request)

    guarded.__name__ = page.handler.__name__
    return guarded


def install(app: web.Application, *tables: UiRoutes) -> None:
    for table in tables:
        for page in table.pages:
            app.router.add_route(page.method, page.path, _guard(page))
