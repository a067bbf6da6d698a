"""Typed keys for what the console keeps on the application and on each request."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from dialer.ui.sessions import Session

PREFIX = "/ui"
STATIC_PREFIX = "/ui/static/"


@dataclass
class ConsoleState:
    """Per-application console state: the cookie key (loaded on first use) and the
    content hashes that version static URLs (so browsers never run a stale script)."""

    signing_key: bytes | None = None
    static_versions: dict[str, str] = field(default_factory=dict)


CONSOLE = web.AppKey("console", ConsoleState)

# Set by the console middleware on every /ui request (None: not signed in).
SESSION = web.RequestKey("ui_session", Session)
# Why a session that the browser presented was refused (shown on the sign-in page).
SESSION_ENDED = web.RequestKey("ui_session_ended", str)


def current_session(request: web.Request) -> Session | None:
    return request.get(SESSION)


def session(request: web.Request) -> Session:
    """The signed-in session of a page that requires one (guaranteed by its guard)."""
    return request[SESSION]
