"""Shared fixtures: one real PostgreSQL per test session, a migrated template database,
and a fresh database cloned from it per test module (or per test with ``fresh_db``).

Set ``DIALER_TEST_DATABASE_URL`` to use an existing server (the user needs CREATEDB);
otherwise an embedded server from the ``pgserver`` wheel starts in a temporary folder.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from dialer import db
from dialer.migrate import migrate

_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of the server's maintenance database (``postgres``)."""
    external = os.environ.get("DIALER_TEST_DATABASE_URL")
    if external:
        yield external
        return
    folder = Path(tempfile.mkdtemp(prefix="dialer-test-pg-"))
    try:
        yield db.start_embedded(folder, quiet=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_db(pg_url: str) -> str:
    """A migrated database that every test database is cloned from."""
    name = f"dialer_tpl_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await db.connect(_with_database(pg_url, name))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return name


async def clone_database(pg_url: str, template: str) -> str:
    """A new database copied from ``template``; returns its URL."""
    name = f"dialer_t{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(pg_url)
    try:
        for _ in range(50):  # CREATE ... TEMPLATE fails while another session uses it
            try:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except asyncpg.ObjectInUseError:
                await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"template {template} stayed busy")
    finally:
        await admin.close()
    return _with_database(pg_url, name)


async def drop_database(pg_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def db_url(pg_url: str, template_db: str) -> AsyncIterator[str]:
    """A fresh migrated database shared by the tests of one module."""
    url = await clone_database(pg_url, template_db)
    yield url
    await drop_database(pg_url, url)


@pytest.fixture
async def fresh_db_url(pg_url: str, template_db: str) -> AsyncIterator[str]:
    """A fresh migrated database for one test."""
    url = await clone_database(pg_url, template_db)
    yield url
    await drop_database(pg_url, url)


@pytest.fixture
async def empty_db_url(pg_url: str) -> AsyncIterator[str]:
    """A database with no migrations applied (for migration tests)."""
    name = f"dialer_e{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(pg_url, name)
    yield url
    await drop_database(pg_url, url)


@pytest.fixture(scope="module")
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await db.create_pool(db_url, min_size=1, max_size=10)
    yield p
    await p.close()
