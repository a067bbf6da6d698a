"""People who sign in with a password: the users API and CLI, console sign-in, the
per-user and per-address throttles, TOTP, and disabling (sessions end at once)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pyotp
import pytest
from aiohttp.test_utils import TestServer

from dialer.auth import users
from dialer.auth.roles import SYSTEM
from dialer.cli import main
from dialer.clock import FakeClock
from dialer.config import Settings
from dialer.runtime import create_app
from dialer.secrets import secret_box
from tests.integration.conftest import Api
from tests.integration.test_ui_sessions import Browser, Console, Response

PASSWORD = "correct horse battery"


@contextlib.asynccontextmanager
async def console_with(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[Console]:
    clock = FakeClock()
    server = TestServer(create_app(settings, pool=pool, clock=clock))
    await server.start_server()
    helper = Console(server, pool, clock)
    try:
        yield helper
    finally:
        for http in helper.browsers:
            await http.close()
        await server.close()


@pytest.fixture(scope="module")
async def console(
    pool: asyncpg.Pool, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with console_with(pool, Settings(data_dir=tmp_path_factory.mktemp("users"))) as c:
        yield c


async def sign_in(browser: Browser, name: str, password: str, code: str = "") -> Response:
    await browser.get("/ui/sign-in")
    return await browser.submit(
        "/ui/sign-in", {"username": name, "password": password, "code": code}
    )


async def make_user(api: Api, name: str, role: str = "manager", **extra: object) -> dict:
    status, body = await api.call(
        "POST", "/api/v1/users", json={"name": name, "role": role, "password": PASSWORD, **extra}
    )
    assert status == 201, body
    return body


async def test_admin_creates_users_and_an_agent_user_gets_an_agent(api: Api) -> None:
    boss = await make_user(api, "maria")
    assert boss["role"] == "manager" and boss["agent_id"] is None
    agent = await make_user(api, "ahmed", "agent")
    assert agent["agent_id"] is not None and agent["agent_name"] == "ahmed"
    status, listed = await api.call("GET", "/api/v1/users")
    assert status == 200 and {"maria", "ahmed"} <= {u["name"] for u in listed["items"]}
    assert all("password" not in json.dumps(u) for u in listed["items"])
    stored = await api.pool.fetchval("SELECT password_hash FROM users WHERE name = 'maria'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x1", "role": "god", "password": PASSWORD}, "role"),
        ({"name": "x2", "role": "viewer", "password": "short"}, "password"),
        ({"name": "", "role": "viewer", "password": PASSWORD}, "name"),
        ({"name": "x3", "role": "viewer", "password": PASSWORD, "shoe": 1}, "shoe"),
        ({"name": "x4", "role": "viewer", "password": PASSWORD, "agent": 1}, "agent"),
    ],
)
async def test_bad_user_input_is_a_400_naming_the_field(api: Api, body: dict, field: str) -> None:
    status, answer = await api.call("POST", "/api/v1/users", json=body)
    assert status == 400 and answer["field"] == field


async def test_a_client_manager_manages_only_its_client_and_never_admins(api: Api) -> None:
    async with api.pool.acquire() as conn:
        other = await conn.fetchval("INSERT INTO clients (name) VALUES ('Other Co') RETURNING id")
    theirs = await make_user(api, "olga", "viewer", client_id=other)
    manager = await api.token("manager", client_id=1, name="client-1-manager")
    status, body = await api.call(
        "POST", "/api/v1/users", as_=manager,
        json={"name": "root2", "role": "admin", "password": PASSWORD},
    )  # fmt: skip
    assert status == 400 and body["field"] == "role"
    status, _ = await api.call("POST", f"/api/v1/users/{theirs['id']}/disable", as_=manager)
    assert status == 404
    status, listed = await api.call("GET", "/api/v1/users", as_=manager)
    assert "olga" not in {u["name"] for u in listed["items"]}
    status, _ = await api.call("GET", "/api/v1/users", as_="viewer")
    assert status == 403


async def test_password_sign_in_opens_a_session_acting_as_the_user(
    api: Api, console: Console
) -> None:
    await make_user(api, "sam", "viewer")
    browser = console.browser()
    resp = await sign_in(browser, "sam", "wrong password!")
    assert resp.status == 400 and "do not match" in resp.text
    resp = await sign_in(browser, "SAM", PASSWORD)
    assert resp.status == 303
    page = await browser.get("/ui/campaigns")
    assert page.status == 200 and "sam" in page.text
    actions = await console.pool.fetch(
        "SELECT action FROM audit_log WHERE action LIKE 'user.sign_in%'"
        " AND (details->>'name' = 'sam' OR actor LIKE 'user:%:sam') ORDER BY id"
    )
    assert [r["action"] for r in actions] == ["user.sign_in_failed", "user.sign_in"]


async def test_five_wrong_passwords_lock_the_user_for_15_minutes(
    api: Api, console: Console
) -> None:
    await make_user(api, "lee", "viewer")
    browser = console.browser()
    for _ in range(4):
        assert (await sign_in(browser, "lee", "not the password")).status == 400
    fifth = await sign_in(browser, "lee", "not the password")
    assert fifth.status == 429 and "Try again in 15 minutes" in fifth.text
    assert fifth.headers["Retry-After"] == "900"
    right = await sign_in(browser, "lee", PASSWORD)
    assert right.status == 429  # whatever the password
    console.clock.advance(14 * 60)
    assert (await sign_in(browser, "lee", PASSWORD)).status == 429
    console.clock.advance(61)
    assert (await sign_in(browser, "lee", PASSWORD)).status == 303
    locks = await console.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'user.locked_out'"
        " AND details->>'name' = 'lee'"
    )
    assert locks == 1


async def test_one_address_trying_many_names_is_held_back(
    api: Api, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await make_user(api, "kim", "viewer")
    async with console_with(pool, Settings(data_dir=tmp_path)) as fresh:
        browser = fresh.browser()
        for n in range(20):
            assert (await sign_in(browser, f"guess{n}", "whatever pass")).status == 400
        held = await sign_in(browser, "kim", PASSWORD)
        assert held.status == 429 and "Try again" in held.text
        fresh.clock.advance(15 * 60 + 1)
        assert (await sign_in(browser, "kim", PASSWORD)).status == 303


async def test_totp_second_factor_and_required_for_admins(
    api: Api, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await make_user(api, "root", "admin")
    settings = Settings(data_dir=tmp_path, require_2fa="admin")
    async with console_with(pool, settings) as strict:
        browser = strict.browser()
        refused = await sign_in(browser, "root", PASSWORD)
        assert refused.status == 403 and "dialer user totp root" in refused.text
        user_id = await pool.fetchval("SELECT id FROM users WHERE name = 'root'")
        async with pool.acquire() as conn:  # the secret is stored under this app's key
            made = await users.set_up_totp(
                conn, user_id, SYSTEM, secret_box(settings), now=strict.clock.now()
            )
        assert made["uri"].startswith("otpauth://totp/Dialer:root")
        no_code = await sign_in(browser, "root", PASSWORD)
        assert no_code.status == 400 and "6-digit code" in no_code.text
        wrong = await sign_in(browser, "root", PASSWORD, "000000")
        assert wrong.status == 400 and "code is not right" in wrong.text
        code = pyotp.TOTP(made["secret"]).at(strict.clock.now())
        assert (await sign_in(browser, "root", PASSWORD, code)).status == 303


async def test_disabling_a_user_ends_its_sessions_at_once(api: Api, console: Console) -> None:
    user = await make_user(api, "dora", "viewer")
    browser = console.browser()
    assert (await sign_in(browser, "dora", PASSWORD)).status == 303
    assert (await browser.get("/ui/campaigns")).status == 200
    status, body = await api.call("POST", f"/api/v1/users/{user['id']}/disable")
    assert status == 200 and body["disabled_at"] is not None
    gone = await browser.get("/ui/campaigns")
    assert gone.status == 303 and gone.location.startswith("/ui/sign-in")
    again = await sign_in(browser, "dora", PASSWORD)
    assert again.status == 403 and "disabled" in again.text


async def test_reset_password_lifts_a_lock_out(api: Api, console: Console) -> None:
    user = await make_user(api, "ivy", "viewer")
    browser = console.browser()
    for _ in range(5):
        await sign_in(browser, "ivy", "not the password")
    assert (await sign_in(browser, "ivy", PASSWORD)).status == 429
    status, _ = await api.call(
        "POST", f"/api/v1/users/{user['id']}/password", json={"password": "a brand new secret"}
    )
    assert status == 200
    assert (await sign_in(browser, "ivy", "a brand new secret")).status == 303


def test_cli_user_create_list_disable_reset(
    monkeypatch: pytest.MonkeyPatch, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIALER_DATABASE_URL", db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = main(["user", "create", "--name", "cli-agent", "--role", "agent",
                 "--password-stdin", "--json"])  # fmt: skip
    created = json.loads(capsys.readouterr().out)
    assert code == 0 and created["id"] > 0 and created["agent_id"] > 0
    assert main(["user", "list", "--json"]) == 0
    assert "cli-agent" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("too short\n"))
    code = main(["user", "reset-password", "cli-agent", "--password-stdin"])
    err = capsys.readouterr().err
    assert code == 2 and "password" in err and err.count("\n") == 1
    assert main(["user", "disable", "cli-agent", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["disabled_at"] is not None
    code = main(["user", "create", "--name", "x y", "--role", "viewer", "--password-stdin"])
    assert code == 2


async def test_console_users_page_creates_and_disables(api: Api, console: Console) -> None:
    await make_user(api, "boss", "manager")
    browser = console.browser()
    await sign_in(browser, "boss", PASSWORD)
    page = await browser.get("/ui/users")
    assert page.status == 200 and "New user" in page.text
    bad = await browser.submit("/ui/users", {"name": "pat", "role": "agent", "password": "short"})
    assert bad.status == 400 and "10-200 characters" in bad.text
    made = await browser.submit(
        "/ui/users", {"name": "pat", "role": "agent", "password": PASSWORD, "agent": ""}
    )
    assert made.status == 303
    page = await browser.get("/ui/users")
    assert 'data-user="pat"' in page.text and "created" in page.text
    pat = await console.pool.fetchval("SELECT id FROM users WHERE name = 'pat'")
    assert (await browser.submit(f"/ui/users/{pat}/disable")).status == 303
    assert "disabled" in (await browser.get("/ui/users")).text
