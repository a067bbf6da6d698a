"""Migration runner: numbered SQL files applied once, in order, under an advisory lock.

Each ``migrations/NNNN_name.sql`` runs in its own transaction and is recorded in
``schema_migrations`` with a SHA-256 checksum. A file that changed after it was applied
stops the runner (and so the service): add a new migration instead of editing one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import asyncpg

from dialer.errors import DialerError

log = logging.getLogger(__name__)

# pg_advisory_lock key: any constant unique to this application ("dialer" in ASCII).
LOCK_KEY = 0x6469616C6572
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(DialerError):
    """The migrations on disk and those recorded in the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


def default_directory() -> Traversable | Path:
    """The ``migrations/`` folder: shipped as ``dialer._migrations`` in an installed wheel,
    or the checkout's top-level folder in an editable install."""
    try:
        return resources.files("dialer._migrations")
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parent.parent / "migrations"
        if not checkout.is_dir():
            raise MigrationError(f"no migrations folder found (looked in {checkout})") from None
        return checkout


def load_migrations(directory: Traversable | Path | None = None) -> list[Migration]:
    """Every ``NNNN_name.sql`` in ``directory``, sorted by number; duplicates are an error."""
    folder = default_directory() if directory is None else directory
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"two migrations numbered {version:04d}: {found[version].filename}, {entry.name}"
            )
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def applied_migrations(conn: asyncpg.Connection) -> dict[int, str]:
    """version → checksum of what the database has applied (empty if never migrated)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


def check_landed(migrations: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """The pending migrations; raise if a landed one changed or vanished."""
    by_version = {m.version: m for m in migrations}
    for version, checksum in sorted(applied.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"migration {version:04d} is recorded in the database but missing on disk; "
                "this code is older than the database"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {migration.filename} changed after it was applied; "
                "restore it and add a new migration instead"
            )
    return [m for m in migrations if m.version not in applied]


async def pending(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Filenames not yet applied (raises ``MigrationError`` if a landed one changed)."""
    todo = check_landed(migrations or load_migrations(), await applied_migrations(conn))
    return [m.filename for m in todo]


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply every pending migration in order under the advisory lock; return their names.

    Two processes calling this at once serialise on the lock; the second finds nothing
    left to do.
    """
    todo_all = migrations if migrations is not None else load_migrations()
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        todo = check_landed(todo_all, await applied_migrations(conn))
        for migration in todo:
            log.info("applying migration", extra={"migration": migration.filename})
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
        return [m.filename for m in todo]
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
