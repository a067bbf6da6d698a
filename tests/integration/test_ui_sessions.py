"""Console sign-in, sessions and CSRF over real HTTP and PostgreSQL.

A ``Browser`` here is an HTTP client with its own cookie jar, like one browser profile.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from dialer.auth.tokens import create_token, revoke_token
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.runtime import CleanupContext, create_app
from dialer.ui.cookies import SESSION_COOKIE
from dialer.ui.sessions import IDLE_TIMEOUT, MAX_AGE

_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


@dataclass
class Response:
    status: int
    text: str
    headers: Any
    cookies: Any

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))


@dataclass
class Browser:
    """One browser profile: its cookies, and the CSRF token of the last page it saw."""

    http: aiohttp.ClientSession
    csrf: str = ""

    async def get(self, path: str, **kw: Any) -> Response:
        return await self._send("GET", path, **kw)

    async def post(self, path: str, data: dict[str, str] | None = None, **kw: Any) -> Response:
        return await self._send("POST", path, data=data or {}, **kw)

    async def submit(self, path: str, data: dict[str, str] | None = None, **kw: Any) -> Response:
        """POST like the page's own form does: with the page's CSRF token."""
        return await self.post(path, {"_csrf": self.csrf, **(data or {})}, **kw)

    async def _send(self, method: str, path: str, **kw: Any) -> Response:
        kw.setdefault("allow_redirects", False)
        async with self.http.request(method, path, **kw) as resp:
            text = await resp.text()
        found = _CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return Response(resp.status, text, resp.headers, resp.cookies)

    def cookie(self, name: str) -> str | None:
        for morsel in self.http.cookie_jar:
            if morsel.key == name:
                return morsel.value
        return None

    async def sign_in(self, token: str, *, next_path: str | None = None) -> Response:
        await self.get("/ui/sign-in")
        data = {"token": token} | ({"next": next_path} if next_path else {})
        return await self.submit("/ui/sign-in", data)


@dataclass
class Console:
    """The real application on a real port, a FakeClock, and tokens per role."""

    server: TestServer
    pool: asyncpg.Pool
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)
    browsers: list[aiohttp.ClientSession] = field(default_factory=list)

    def browser(self) -> Browser:
        http = aiohttp.ClientSession(
            base_url=self.server.make_url(""), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        self.browsers.append(http)
        return Browser(http)

    async def signed_in(self, role: str = "manager") -> Browser:
        browser = self.browser()
        resp = await browser.sign_in(self.tokens[role])
        assert resp.status == 303, resp.text
        await browser.get(resp.location)  # the landing page: picks up the CSRF token
        return browser

    async def token(self, role: str, *, name: str, client_id: int | None = None) -> str:
        async with self.pool.acquire() as conn:
            token, _ = await create_token(
                conn, name=name, role=role, client_id=client_id, now=self.clock.now()
            )
        return token

    async def campaign(self, name: str, *, client_id: int = 1, **extra: Any) -> int:
        columns = {"caller_id": "+14155550100", "purpose": "survey", "dial_mode": "preview"}
        columns |= extra
        async with self.pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    "INSERT INTO campaigns (client_id, name, purpose, dial_mode, caller_id, state)"
                    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    client_id,
                    name,
                    columns["purpose"],
                    columns["dial_mode"],
                    columns["caller_id"],
                    columns.get("state", "draft"),
                )
            )

    async def state_of(self, campaign_id: int) -> str:
        return str(
            await self.pool.fetchval("SELECT state FROM campaigns WHERE id = $1", campaign_id)
        )


@contextlib.asynccontextmanager
async def open_console(
    pool: asyncpg.Pool,
    data_dir: Path,
    *,
    background: Iterable[CleanupContext] = (),
) -> AsyncIterator[Console]:
    """The console over ``pool`` on a real port, with a manager/admin/viewer/crm token
    (and, when given, background parts such as the import service)."""
    clock = FakeClock()
    app = create_app(Settings(data_dir=data_dir), pool=pool, clock=clock, background=background)
    server = TestServer(app)
    await server.start_server()
    helper = Console(server, pool, clock)
    try:
        for role in ("admin", "manager", "viewer", "crm"):
            helper.tokens[role] = await helper.token(role, name=f"ui-{role}")
        yield helper
    finally:
        for http in helper.browsers:
            await http.close()
        await server.close()


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with open_console(pool, tmp_path_factory.mktemp("ui-data")) as helper:
        yield helper


# ---- sign in / sign out -------------------------------------------------------------------


async def test_root_and_ui_lead_to_the_sign_in_page(console: Console) -> None:
    browser = console.browser()
    assert (await browser.get("/")).location == "/ui/"
    resp = await browser.get("/ui/")
    assert resp.status == 303 and resp.location.startswith("/ui/sign-in")
    page = await browser.get("/ui/sign-in")
    assert page.status == 200 and 'type="password"' in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


async def test_bad_token_shows_an_error_and_opens_no_session(console: Console) -> None:
    browser = console.browser()
    before = await console.pool.fetchval("SELECT count(*) FROM ui_sessions")
    resp = await browser.sign_in("dlr_not-a-real-token")
    assert resp.status == 400
    assert "That token is not valid or has been revoked." in resp.text
    assert browser.cookie(SESSION_COOKIE) is None
    assert await console.pool.fetchval("SELECT count(*) FROM ui_sessions") == before


async def test_sign_in_sets_a_hardened_cookie_and_stores_only_a_hash(console: Console) -> None:
    browser = console.browser()
    resp = await browser.sign_in(console.tokens["manager"])
    assert resp.status == 303 and resp.location == "/ui/campaigns"
    morsel = resp.cookies[SESSION_COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Lax" and morsel["path"] == "/ui"
    assert not morsel["secure"]  # plain http here; see the X-Forwarded-Proto test
    session_id = morsel.value.rsplit(".", 1)[0]
    row = await console.pool.fetchrow(
        "SELECT * FROM ui_sessions WHERE session_hash = $1",
        hashlib.sha256(session_id.encode()).digest(),
    )
    assert row is not None and row["expires_at"] == console.clock.now() + IDLE_TIMEOUT
    assert session_id not in str(dict(row))
    page = await browser.get("/ui/campaigns")
    assert page.status == 200 and "ui-manager" in page.text


async def test_cookie_is_secure_behind_an_https_proxy(console: Console) -> None:
    browser = console.browser()
    await browser.get("/ui/sign-in")
    resp = await browser.submit(
        "/ui/sign-in",
        {"token": console.tokens["viewer"]},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert resp.status == 303 and resp.cookies[SESSION_COOKIE]["secure"]


async def test_sign_in_form_without_its_csrf_token_is_refused(console: Console) -> None:
    browser = console.browser()
    await browser.get("/ui/sign-in")
    resp = await browser.post("/ui/sign-in", {"token": console.tokens["admin"], "_csrf": "x"})
    assert resp.status == 403 and "expired" in resp.text
    assert browser.cookie(SESSION_COOKIE) is None


async def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(console: Console) -> None:
    browser = console.browser()
    first = await browser.get("/ui/campaigns/new")
    assert first.location == "/ui/sign-in?next=%2Fui%2Fcampaigns%2Fnew"
    resp = await browser.sign_in(console.tokens["manager"], next_path="/ui/campaigns/new")
    assert resp.location == "/ui/campaigns/new"
    other = console.browser()
    resp = await other.sign_in(console.tokens["manager"], next_path="https://evil.example/ui/")
    assert resp.location == "/ui/campaigns"


async def test_sign_out_deletes_the_session(console: Console) -> None:
    browser = await console.signed_in("manager")
    cookie = browser.cookie(SESSION_COOKIE)
    resp = await browser.submit("/ui/sign-out")
    assert resp.status == 303 and resp.location == "/ui/sign-in?reason=signed-out"
    assert "You are signed out." in (await browser.get(resp.location)).text
    # Replaying the old cookie gets nowhere: the server forgot the session.
    replay = console.browser()
    replay.http.cookie_jar.update_cookies(
        {SESSION_COOKIE: cookie or ""}, console.server.make_url("/ui/")
    )
    assert (await replay.get("/ui/campaigns")).location.startswith("/ui/sign-in")


async def test_a_forged_cookie_is_ignored_and_cleared(console: Console) -> None:
    browser = await console.signed_in("manager")
    value = browser.cookie(SESSION_COOKIE) or ""
    forged = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    browser.http.cookie_jar.update_cookies(
        {SESSION_COOKIE: forged}, console.server.make_url("/ui/")
    )
    resp = await browser.get("/ui/campaigns")
    assert resp.status == 303 and resp.location.startswith("/ui/sign-in")
    assert resp.cookies[SESSION_COOKIE].value == ""  # told to forget it


# ---- expiry and revocation -------------------------------------------------------------


async def test_session_slides_while_used_and_expires_when_idle(console: Console) -> None:
    browser = await console.signed_in("viewer")
    console.clock.advance((IDLE_TIMEOUT - timedelta(minutes=5)).total_seconds())
    assert (await browser.get("/ui/campaigns")).status == 200  # used: expiry slides on
    console.clock.advance((IDLE_TIMEOUT - timedelta(minutes=5)).total_seconds())
    assert (await browser.get("/ui/campaigns")).status == 200
    console.clock.advance(IDLE_TIMEOUT.total_seconds())
    resp = await browser.get("/ui/campaigns")
    assert resp.status == 303 and "reason=expired" in resp.location
    page = await browser.get(resp.location)
    assert "Your session expired." in page.text


async def test_session_ends_at_its_max_age_even_when_busy(console: Console) -> None:
    browser = await console.signed_in("viewer")
    step = IDLE_TIMEOUT - timedelta(minutes=1)
    elapsed = timedelta(0)
    while elapsed + step < MAX_AGE:
        console.clock.advance(step.total_seconds())
        elapsed += step
        assert (await browser.get("/ui/campaigns")).status == 200
    console.clock.advance(step.total_seconds())
    assert "reason=expired" in (await browser.get("/ui/campaigns")).location


async def test_revoking_the_token_ends_its_sessions_at_the_next_request(console: Console) -> None:
    token = await console.token("manager", name="soon-revoked")
    browser = console.browser()
    await browser.sign_in(token)
    assert (await browser.get("/ui/campaigns")).status == 200
    async with console.pool.acquire() as conn:
        await revoke_token(conn, "soon-revoked", now=console.clock.now())
    resp = await browser.get("/ui/campaigns")
    assert resp.status == 303 and "reason=revoked" in resp.location
    assert "has been revoked" in (await browser.get(resp.location)).text
    left = await console.pool.fetchval(
        "SELECT count(*) FROM ui_sessions s JOIN api_tokens t ON t.id = s.token_id"
        " WHERE t.name = 'soon-revoked'"
    )
    assert left == 0


# ---- CSRF --------------------------------------------------------------------------------


async def test_posts_without_the_csrf_token_get_a_403_page_and_change_nothing(
    console: Console,
) -> None:
    campaign = await console.campaign("csrf target")
    browser = await console.signed_in("manager")
    missing = await browser.post(f"/ui/campaigns/{campaign}/start")
    wrong = await browser.post(f"/ui/campaigns/{campaign}/start", {"_csrf": "not-it"})
    for resp in (missing, wrong):
        assert resp.status == 403 and "Request refused" in resp.text
    assert await console.state_of(campaign) == "draft"
    # The same request from the page itself (the form's token) goes through.
    ok = await browser.submit(f"/ui/campaigns/{campaign}/start")
    assert ok.status == 303 and await console.state_of(campaign) == "running"


async def test_htmx_sends_the_token_in_a_header(console: Console) -> None:
    campaign = await console.campaign("htmx target", state="running")
    browser = await console.signed_in("manager")
    refused = await browser.post(f"/ui/campaigns/{campaign}/pause", headers={"HX-Request": "true"})
    assert refused.status == 403 and 'id="flash"' in refused.text  # a message fragment
    resp = await browser.post(
        f"/ui/campaigns/{campaign}/pause",
        headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf},
    )
    assert resp.status == 200 and f'id="campaign-{campaign}"' in resp.text
    assert "is paused" in resp.text and 'hx-swap-oob="true"' in resp.text
    assert await console.state_of(campaign) == "paused"


async def test_csrf_tokens_belong_to_one_session(console: Console) -> None:
    campaign = await console.campaign("cross-session")
    first = await console.signed_in("manager")
    second = await console.signed_in("manager")
    assert first.csrf != second.csrf
    resp = await second.post(f"/ui/campaigns/{campaign}/start", {"_csrf": first.csrf})
    assert resp.status == 403 and await console.state_of(campaign) == "draft"


# ---- roles and client scope ---------------------------------------------------------------


async def test_client_scoped_manager_sees_only_their_client(console: Console) -> None:
    async with console.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('Acme BPO') RETURNING id")
    mine = await console.campaign("acme renewals", client_id=other)
    theirs = await console.campaign("default-client secret")
    token = await console.token("manager", name="acme-manager", client_id=other)
    browser = console.browser()
    await browser.sign_in(token)
    page = await browser.get("/ui/campaigns")
    assert "acme renewals" in page.text and "default-client secret" not in page.text
    assert "Manager · Acme BPO" in page.text
    for resp in (
        await browser.get(f"/ui/campaigns/{theirs}/edit"),
        await browser.submit(f"/ui/campaigns/{theirs}/start"),
        await browser.submit(f"/ui/campaigns/{theirs}/delete"),
    ):
        assert resp.status == 404 and "does not exist" in resp.text
    assert await console.state_of(theirs) == "draft"
    assert (await browser.get(f"/ui/campaigns/{mine}/edit")).status == 200


async def test_viewer_reads_but_cannot_change(console: Console) -> None:
    campaign = await console.campaign("viewer sees this")
    browser = await console.signed_in("viewer")
    page = await browser.get("/ui/campaigns")
    assert "viewer sees this" in page.text
    assert "New campaign" not in page.text and 'data-action="start"' not in page.text
    assert (await browser.get("/ui/campaigns/new")).status == 403
    resp = await browser.submit(f"/ui/campaigns/{campaign}/start")
    assert resp.status == 403 and "may not campaigns write" in resp.text
    assert await console.state_of(campaign) == "draft"


async def test_each_role_lands_on_its_first_page(console: Console) -> None:
    agent_id = await console.pool.fetchval(
        "INSERT INTO agents (client_id, name) VALUES (1, 'ui-agent') RETURNING id"
    )
    async with console.pool.acquire() as conn:
        agent_token, _ = await create_token(
            conn, name="ui-agent", role="agent", agent_id=agent_id, now=console.clock.now()
        )
    browser = console.browser()
    resp = await browser.sign_in(agent_token)
    assert resp.location == "/ui/desk"  # an agent lands on their own desktop
    assert (await browser.get("/ui/desk")).location == f"/ui/agents/{agent_id}"
    page = await browser.get("/ui/rules")
    assert 'href="/ui/campaigns"' not in page.text  # navigation shows only allowed pages
    assert 'href="/ui/dnc"' not in page.text and 'href="/ui/desk"' in page.text
    assert (await browser.get("/ui/campaigns")).status == 403


async def test_unknown_console_pages_are_a_404_page(console: Console) -> None:
    browser = await console.signed_in("manager")
    resp = await browser.get("/ui/no-such-page")
    assert resp.status == 404 and "Page not found" in resp.text
    assert resp.headers["Content-Type"].startswith("text/html")
