"""Route tables: each resource module declares its endpoints once, with the permission it
needs and the shape of its input; the same declarations install the routes, enforce roles
and produce the OpenAPI document, so the document cannot drift from the routes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dialer.auth.roles import Permission
from dialer.http.jsonio import error_response
from dialer.http.keys import principal

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Param:
    """A query parameter, documented in OpenAPI."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    permission: Permission | None  # None: no authentication needed
    body: dict[str, Any] | None = None  # JSON schema of the request body
    body_content_type: str = "application/json"
    query: tuple[Param, ...] = ()
    status: int = 200
    response: dict[str, Any] | None = None  # JSON schema of the success body
    response_content_type: str = "application/json"

    @property
    def doc_path(self) -> str:
        """The path with regex constraints removed: ``/x/{id:\\d+}`` → ``/x/{id}``."""
        return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", self.path)


class Routes:
    """The endpoints of one resource module."""

    def __init__(self, tag: str, description: str = "") -> None:
        self.tag = tag
        self.description = description
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        permission: Permission | None,
        **options: Any,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(method, path, handler, summary, self.tag, permission, **options)
            )
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)


def _guard(endpoint: Endpoint) -> Handler:
    """Wrap a handler with its role check (authentication happened in the middleware)."""
    if endpoint.permission is None:
        return endpoint.handler
    permission = endpoint.permission

    async def guarded(request: web.Request) -> web.StreamResponse:
        who = principal(request)
        if not who.can(permission):
            return error_response(
                403, f"role {who.role!r} may not {permission.value.replace('.', ' ')}"
            )
        return await endpoint.handler(request)

    guarded.__name__ = endpoint.handler.__name__
    return guarded


def install(app: web.Application, tables: Iterable[Routes]) -> list[Endpoint]:
    """Add every endpoint of ``tables`` to ``app``; return them (for the OpenAPI document)."""
    endpoints: list[Endpoint] = []
    for table in tables:
        for endpoint in table.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _guard(endpoint))
            endpoints.append(endpoint)
    return endpoints
