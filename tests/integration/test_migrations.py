"""The migration runner: idempotent, serialised by the advisory lock, refuses edits."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from dialer import db
from dialer.migrate import Migration, MigrationError, load_migrations, migrate, pending


async def test_applies_every_migration_once_and_records_checksums(empty_db_url: str) -> None:
    conn = await db.connect(empty_db_url)
    try:
        first = await migrate(conn)
        assert first == [m.filename for m in load_migrations()]
        assert await migrate(conn) == []
        assert await pending(conn) == []
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY 1")
        assert [(r["version"], r["checksum"]) for r in rows] == [
            (m.version, m.checksum) for m in load_migrations()
        ]
        # The default client exists so single-company users never think about clients.
        assert await conn.fetchval("SELECT name FROM clients WHERE id = 1") == "default"
    finally:
        await conn.close()


async def test_two_concurrent_runners_apply_once(empty_db_url: str) -> None:
    slow = [
        Migration(1, "slow", "SELECT pg_sleep(0.3); CREATE TABLE t1 (x int);"),
        Migration(2, "next", "CREATE TABLE t2 (x int);"),
    ]
    a, b = await db.connect(empty_db_url), await db.connect(empty_db_url)
    try:
        ra, rb = await asyncio.gather(migrate(a, slow), migrate(b, slow))
        # One runner applied both, the other found nothing to do; no "already exists" error.
        assert sorted([ra, rb], key=len) == [[], ["0001_slow.sql", "0002_next.sql"]]
        assert await a.fetchval("SELECT count(*) FROM schema_migrations") == 2
    finally:
        await a.close()
        await b.close()


async def test_refuses_when_a_landed_migration_changed(empty_db_url: str) -> None:
    conn = await db.connect(empty_db_url)
    try:
        await migrate(conn, [Migration(1, "one", "CREATE TABLE t1 (x int);")])
        edited = [Migration(1, "one", "CREATE TABLE t1 (x bigint);")]
        with pytest.raises(MigrationError, match=r"0001_one\.sql changed"):
            await migrate(conn, edited)
        with pytest.raises(MigrationError, match="changed"):
            await pending(conn, edited)
    finally:
        await conn.close()


async def test_refuses_when_database_is_newer_than_code(empty_db_url: str) -> None:
    conn = await db.connect(empty_db_url)
    try:
        await migrate(conn, [Migration(1, "one", "SELECT 1;"), Migration(2, "two", "SELECT 2;")])
        with pytest.raises(MigrationError, match="missing on disk"):
            await migrate(conn, [Migration(1, "one", "SELECT 1;")])
    finally:
        await conn.close()


async def test_failed_migration_rolls_back_and_is_not_recorded(empty_db_url: str) -> None:
    conn = await db.connect(empty_db_url)
    try:
        bad = [
            Migration(1, "ok", "CREATE TABLE ok (x int);"),
            Migration(2, "bad", "CREATE TABLE half (x int); SELECT * FROM nowhere;"),
        ]
        with pytest.raises(Exception, match="nowhere"):
            await migrate(conn, bad)
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 1
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        # The lock was released: a later run proceeds.
        assert await migrate(conn, bad[:1]) == []
    finally:
        await conn.close()


def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_0016_cleans_stored_dial_levels_then_bounds_them(empty_db_url: str) -> None:
    """A NaN or infinite dial level (stored before input checks existed) stopped the
    engine; the migration cleans them and the constraint keeps new ones out."""
    conn = await db.connect(empty_db_url)
    try:
        earlier = [m for m in load_migrations() if m.version < 16]
        await migrate(conn, earlier)
        client = await conn.fetchval("SELECT id FROM clients ORDER BY id LIMIT 1") or (
            await conn.fetchval("INSERT INTO clients (name) VALUES ('m16') RETURNING id")
        )
        stored = {"NaN": 2.0, "Infinity": 2.0, "-Infinity": 2.0, "0.5": 1.0, "9": 5.0, "3": 3.0}
        for level in stored:
            await conn.execute(
                "INSERT INTO campaigns (client_id, name, purpose, dial_mode, dial_level)"
                " VALUES ($1, $2, 'survey', 'power', $3::text::float8)",
                client,
                f"level {level}",
                level,
            )
        await migrate(conn)
        rows = await conn.fetch("SELECT name, dial_level FROM campaigns")
        assert {r["name"]: r["dial_level"] for r in rows} == {
            f"level {k}": v for k, v in stored.items()
        }
        for bad in ("NaN", "Infinity", "0.9", "5.5"):
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute("UPDATE campaigns SET dial_level = $1::text::float8", bad)
    finally:
        await conn.close()
