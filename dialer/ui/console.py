"""Mounting the console on the service's application: templates, static files, pages.

The console is server-rendered HTML (Jinja2 templates) with htmx for partial updates; htmx
and the stylesheet ship inside the package (``static/``), so there is no JavaScript build.
Pages live under ``/ui/``; ``/`` redirects there. None of them is in the OpenAPI document,
which describes ``/api/v1`` only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from dialer.ui import filters
from dialer.ui.context import CONSOLE, PREFIX, STATIC_PREFIX, ConsoleState
from dialer.ui.middleware import console_middleware
from dialer.ui.pages import (
    auth,
    blending,
    board,
    callerids,
    campaigns,
    desk,
    desk_transfer,
    dnc,
    floor,
    leads,
    lists,
    live,
    monitor,
    privacy,
    recordings,
    rules,
    users,
)
from dialer.ui.render import see_other
from dialer.ui.routing import install

STATIC_DIR = Path(__file__).parent / "static"
# The page modules, in no particular order; later phases add theirs here.
PAGE_TABLES = (
    auth.routes,
    campaigns.routes,
    callerids.routes,
    live.routes,
    lists.routes,
    dnc.routes,
    desk.routes,
    desk_transfer.routes,
    rules.routes,
    users.routes,
    floor.routes,
    leads.routes,
    privacy.routes,
    board.routes,
    recordings.routes,
    monitor.routes,
    blending.routes,
)


def _static_versions(folder: Path) -> dict[str, str]:
    """file name → short content hash, appended to static URLs to bust browser caches."""
    return {
        entry.name: hashlib.sha256(entry.read_bytes()).hexdigest()[:12]
        for entry in folder.iterdir()
        if entry.is_file()
    }


async def _root(request: web.Request) -> web.Response:
    return see_other(PREFIX + "/")


def setup_ui(app: web.Application) -> None:
    """Add the console to ``app`` (before it starts): call once from ``create_app``."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("dialer.ui", "templates"),
        default_helpers=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.register(env)
    app[CONSOLE] = ConsoleState(static_versions=_static_versions(STATIC_DIR))
    app.middlewares.append(console_middleware)
    app.router.add_get("/", _root)
    app.router.add_get(PREFIX, _root)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR, name="ui-static")
    install(app, *PAGE_TABLES)
