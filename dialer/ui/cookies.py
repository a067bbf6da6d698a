"""The console's cookies: HttpOnly, SameSite=Lax, scoped to /ui, Secure over https.

``Secure`` follows the scheme the browser used: the request's own, or ``X-Forwarded-Proto``
from a TLS-terminating proxy in front of ``dialer serve``.
"""

from __future__ import annotations

from aiohttp import web

from dialer.ui.context import PREFIX

SESSION_COOKIE = "dialer_session"


def is_https(request: web.Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    if forwarded:
        return forwarded.split(",")[0].strip().lower() == "https"
    return request.secure


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
    )


def clear_cookie(response: web.StreamResponse, request: web.Request, name: str) -> None:
    response.del_cookie(name, path=PREFIX, secure=is_https(request), httponly=True, samesite="Lax")
