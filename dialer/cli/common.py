"""What the CLI commands share: settings, a database connection, output helpers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import asyncpg

from dialer import db
from dialer.config import Settings, load_settings
from dialer.http.jsonio import dumps
from dialer.runtime import prepare_database

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment settings; commands may override some with flags."""
    return load_settings()


@contextlib.asynccontextmanager
async def connection(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """One connection to the (embedded by default) database, prepared as ``serve`` prepares
    it (migrated when allowed, else refused while migrations are pending)."""
    conn = await db.connect(await prepare_database(settings, quiet=True))
    try:
        yield conn
    finally:
        await conn.close()


def print_json(data: Any) -> None:
    print(dumps(data))


def print_refusal(refused: dict[str, Any], as_json: bool) -> int:
    """A call the calling rules refused (``manual.Refused.to_dict``): its reasons and when it
    becomes allowed, on stderr (or as JSON); the exit code 2."""
    if as_json:
        print_json(refused)
    else:
        reasons = "; ".join(refused["reasons"])
        when = refused.get("next_allowed_at")
        after = f" (allowed from {when:%Y-%m-%d %H:%M} UTC)" if when else ""
        print(f"dialer: error: {refused['error']}: {reasons}{after}", file=sys.stderr)
    return 2


def print_dial(got: dict[str, Any], as_json: bool, line: str) -> int:
    """The answer to a dial request (a manual dial, a transfer leg): the refusal with exit
    code 2 (``print_refusal``), else the result as JSON or ``line``; exit code 0."""
    refused = got.get("refused")
    if refused is not None:
        return print_refusal(refused, as_json)
    if as_json:
        print_json(got)
    else:
        print(line)
    return 0


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table for humans."""
    if not rows:
        print("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def eprint(message: str) -> None:
    print(message, file=sys.stderr)
