"""Cross-site request forgery protection for the console.

Signed in, every state-changing request must carry the session's CSRF token: forms send it
as the hidden field ``_csrf``, htmx sends it in the ``X-CSRF-Token`` header (set once on
``<body hx-headers>``). A streamed upload must use the header (its body is not read here).

The sign-in form has no session yet; it uses a double-submit token instead: a random nonce
in a signed ``dialer_signin`` cookie that the form must echo, so another site cannot sign a
browser in with the attacker's token.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from dialer.ui.sessions import sign, unsign

HEADER = "X-CSRF-Token"
FIELD = "_csrf"
SIGNIN_COOKIE = "dialer_signin"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def submitted_token(request: web.Request, *, header_only: bool = False) -> str | None:
    """The CSRF token a request carries (header first, then the form field)."""
    header = request.headers.get(HEADER)
    if header:
        return header
    if header_only or request.content_type not in _FORMS:
        return None
    form = await request.post()  # cached: the handler reads the same parsed form
    value = form.get(FIELD)
    return value if isinstance(value, str) else None


def matches(expected: str, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)


def signin_nonce(request: web.Request, key: bytes) -> tuple[str, bool]:
    """The sign-in form's nonce: (nonce, whether the cookie must be (re)set)."""
    current = unsign(key, request.cookies.get(SIGNIN_COOKIE))
    if current is not None:
        return current, False
    return secrets.token_urlsafe(24), True


def signin_cookie_value(key: bytes, nonce: str) -> str:
    return sign(key, nonce)


def signin_token_valid(request: web.Request, key: bytes, given: str | None) -> bool:
    """Does the sign-in form echo the nonce of its signed cookie?"""
    nonce = unsign(key, request.cookies.get(SIGNIN_COOKIE))
    return nonce is not None and matches(nonce, given)
