"""The ``dialer`` CLI run in-process, as its tests run it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from dialer.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``dialer *argv``: (exit code, what it printed, what it printed on stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fetchval(db_url: str, query: str, *args: object) -> object:
    """One value from the database the CLI works on (for a test's set-up and checks)."""

    async def go() -> object:
        conn = await asyncpg.connect(db_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(go())
