"""PostgreSQL access: the embedded server default and the process's one asyncpg pool."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import asyncpg

from dialer.config import Settings
from dialer.errors import DialerError

# What a lost, restarting or refusing database raises: background loops log it and retry.
DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
# Of those, what says the database is out of reach (not that a statement is wrong): the
# connection failed or ended, or the server is shutting down or starting.
OUTAGE_ERRORS = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)

log = logging.getLogger(__name__)


class DatabaseUnavailable(DialerError):
    """The database could not be reached or started."""


def start_embedded(data_dir: Path, *, quiet: bool = False) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``data_dir/pg``; return its URL.

    The server is a real PostgreSQL from the ``pgserver`` wheel, listening on a Unix socket
    only. Data survives restarts; the server stops when the last process using it exits.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises assorted subprocess errors
        raise DatabaseUnavailable(
            f"could not start embedded PostgreSQL in {pgdata}: {exc}; "
            "set DIALER_DATABASE_URL to use an external server"
        ) from exc
    url: str = server.get_uri()
    if not quiet:
        print(f"dialer: embedded PostgreSQL ready (data in {pgdata})", file=sys.stderr)
    return url


async def database_url(settings: Settings, *, quiet: bool = False) -> str:
    """The configured URL, or the embedded server's (started in a worker thread)."""
    if settings.database_url:
        return settings.database_url
    return await asyncio.to_thread(start_embedded, settings.data_dir, quiet=quiet)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    """The process's pool, with json/jsonb decoded to Python objects."""
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            command_timeout=60,
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    return pool


async def connect(url: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool (for CLI one-shots and migrations)."""
    try:
        conn: asyncpg.Connection = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    await _init_connection(conn)
    return conn


def record_dict(record: asyncpg.Record | None) -> dict[str, Any] | None:
    """A row as a plain dict (``None`` stays ``None``)."""
    return None if record is None else dict(record)
