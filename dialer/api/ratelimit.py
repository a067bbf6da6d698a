"""Rate limits on ``/api/v1``: one token bucket per bearer token and one per client address,
so one tenant's script (or one address guessing tokens) cannot starve the others.

A request takes one unit from its address's bucket before authentication and one from its
token's bucket after; an empty bucket answers 429 with ``Retry-After`` (whole seconds until
a unit is back). Buckets refill continuously at ``DIALER_API_RATE_PER_TOKEN`` /
``DIALER_API_RATE_PER_ADDRESS`` units a second up to their burst size; a rate of 0 turns
that limit off. Time comes from the application's clock (``Clock.monotonic``). Refused
requests are counted in ``dialer_http_requests_total{status="429"}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler

from dialer.http.jsonio import error_response
from dialer.http.keys import CLOCK, PRINCIPAL, SETTINGS

PREFIX = "/api/v1/"
MAX_KEYS = 10_000  # past this many buckets, full ones are forgotten


@dataclass
class Buckets:
    """Token buckets by key: ``rate`` units a second, at most ``burst`` saved up."""

    rate: float
    burst: float
    levels: dict[str, tuple[float, float]] = field(default_factory=dict)  # key → (units, at)

    def take(self, key: str, now: float) -> float:
        """Take one unit for ``key``; 0 when it was there, else the seconds until one is."""
        if self.rate <= 0:
            return 0.0
        found = self.levels.get(key)
        if found is None and len(self.levels) >= MAX_KEYS:
            self._make_room(now)
        units, at = found or (self.burst, now)
        units = min(self.burst, units + max(0.0, now - at) * self.rate)
        if units < 1.0:
            self.levels[key] = (units, now)
            return (1.0 - units) / self.rate
        self.levels[key] = (units - 1.0, now)
        return 0.0

    def _make_room(self, now: float) -> None:
        """Forget buckets that have refilled (a new bucket starts full: nothing is lost);
        if that is not enough, the half least recently used (so this runs at most once per
        ``MAX_KEYS / 2`` new keys)."""
        rate, burst = self.rate, self.burst
        self.levels = {
            k: (u, at) for k, (u, at) in self.levels.items() if u + (now - at) * rate < burst
        }
        if len(self.levels) >= MAX_KEYS // 2:
            by_age = sorted(self.levels.items(), key=lambda item: item[1][1])
            self.levels = dict(by_age[len(by_age) - MAX_KEYS // 2 + 1 :])


LIMITS = web.AppKey("rate_limits", dict[str, Buckets])


def setup_limits(app: web.Application) -> None:
    """Give ``app`` its buckets, from its settings (before it starts)."""
    settings = app[SETTINGS]
    app[LIMITS] = {
        "token": Buckets(settings.api_rate_per_token, settings.api_burst_per_token),
        "address": Buckets(settings.api_rate_per_address, settings.api_burst_per_address),
    }


def _buckets(app: web.Application, kind: str) -> Buckets:
    return app[LIMITS][kind]


def _too_many(kind: str, wait: float) -> web.Response:
    seconds = max(1, math.ceil(wait))
    response = error_response(
        429,
        f"too many requests for this {kind}: retry after {seconds} s",
        retry_after_s=seconds,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


@web.middleware
async def address_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Per client address, before authentication (token guessing is limited too)."""
    if request.path.startswith(PREFIX):
        now = request.app[CLOCK].monotonic()
        wait = _buckets(request.app, "address").take(request.remote or "unknown", now)
        if wait > 0:
            return _too_many("address", wait)
    return await handler(request)


@web.middleware
async def token_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Per bearer token, after authentication."""
    who = request.get(PRINCIPAL)
    if who is not None and request.path.startswith(PREFIX):
        now = request.app[CLOCK].monotonic()
        wait = _buckets(request.app, "token").take(f"{who.token_id}:{who.name}", now)
        if wait > 0:
            return _too_many("token", wait)
    return await handler(request)
