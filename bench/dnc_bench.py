"""National DNC registry benchmark: load a registry file, refresh it, look numbers up.

    python bench/dnc_bench.py [--numbers 1000000] [--workers N] [--json]

Writes a registry file as the FTC publishes it (ten digits a line: area code + number),
loads it as ``us_dnc`` through the real import path (``Importer``, its parse workers, one
transaction) into a scratch PostgreSQL (``DIALER_DATABASE_URL`` or an embedded server in a
temporary folder), then refreshes it with ``mode=replace`` from a file with 5 % of the
numbers changed. Reports rows/s of both, the refresh's kept/added/removed, peak RSS (main
process and workers) and the dial-time lookup latency (``dnc_sources``, p50/p99) after the
refresh. Not a test: it prints figures (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from figures import print_figures
from scratch import scratch_database

from dialer import db
from dialer.auth.roles import SYSTEM
from dialer.clock import SystemClock
from dialer.dnc.lookup import dnc_sources
from dialer.leads.importer import Importer
from dialer.leads.parallel import ParsePool, default_workers
from dialer.leads.submit import DncOptions, FileOptions, dnc_import
from dialer.migrate import migrate

CLOCK = SystemClock()
_NPAS = tuple(str(npa) for npa in range(201, 990, 7) if npa % 100 not in (11, 0))


def number(i: int) -> str:
    """The i-th registry number (ten digits), all distinct for i < 8 million per area code."""
    k = i // len(_NPAS)
    return f"{_NPAS[i % len(_NPAS)]}{2 + k // 1_000_000}{k % 1_000_000:06d}"


def _write(path: Path, ids: range) -> None:
    """One number a line, in a shuffled-looking order (blocks of ids, reversed)."""
    with open(path, "w", encoding="ascii") as f:
        step = 100_000
        for start in reversed(range(ids.start, ids.stop, step)):
            block = range(start, min(start + step, ids.stop))
            f.write("".join(number(i) + "\n" for i in block))


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def _load(pool: asyncpg.Pool, parse: ParsePool, path: Path, mode: str) -> dict[str, Any]:
    async with pool.acquire() as conn:
        job = await dnc_import(
            conn,
            path,
            FileOptions(source="cli"),
            DncOptions(list_source="us_dnc", mode=mode),
            SYSTEM,
            now=CLOCK.now(),
        )
    started = time.perf_counter()
    row = await Importer(pool, parse, CLOCK, instance_id="bench").run(job["id"])
    seconds = time.perf_counter() - started
    if row["state"] != "completed":
        raise SystemExit(f"{mode} failed: {row['error']}")
    return {
        "rows": row["rows_read"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(row["rows_read"] / seconds),
        "accepted": row["accepted"],
        "rejected_by_reason": row["rejected_by_reason"],
        **{k: row["options"][k] for k in ("kept", "added", "removed") if k in row["options"]},
    }


async def _lookups(
    pool: asyncpg.Pool, ids: range, count: int, until: asyncio.Event | None = None
) -> dict[str, float]:
    """Dial-time lookups of random numbers (some not listed): ``count`` of them, or as many
    as fit until ``until`` is set (then pausing 5 ms between two, like a busy dialer)."""
    rng = random.Random(3)
    times: list[float] = []
    async with pool.acquire() as conn:
        while (until is None and len(times) < count) or (until is not None and not until.is_set()):
            if until is not None:
                await asyncio.sleep(0.005)
            phone = "+1" + number(rng.randrange(ids.start, ids.stop + ids.stop // 10))
            started = time.perf_counter()
            await dnc_sources(conn, [phone], client_id=1, campaign_id=None, now=CLOCK.now())
            times.append(time.perf_counter() - started)
    times.sort()
    if not times:
        return {}
    return {
        "lookups": len(times),
        "p50_ms": round(times[len(times) // 2] * 1000, 3),
        "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 3),
    }


async def _run(url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    conn = await db.connect(url)
    await migrate(conn)
    await conn.close()
    changed = max(args.numbers // 20, 1)
    fresh = range(changed, args.numbers + changed)  # 5 % left, 5 % new
    await asyncio.to_thread(_write, folder / "us_dnc-1.txt", range(args.numbers))
    if not args.load_only:
        await asyncio.to_thread(_write, folder / "us_dnc-2.txt", fresh)
    pool = await db.create_pool(url, min_size=2, max_size=4)
    parse = ParsePool(args.workers)
    try:
        load = await _load(pool, parse, folder / "us_dnc-1.txt", "add")
        refresh: dict[str, Any] = {}
        lookup_during: dict[str, float] = {}
        if not args.load_only:
            done = asyncio.Event()
            during = asyncio.create_task(_lookups(pool, range(args.numbers), 0, done))
            refresh = await _load(pool, parse, folder / "us_dnc-2.txt", "replace")
            done.set()
            lookup_during = await during
        else:
            fresh = range(args.numbers)
        lookup = await _lookups(pool, fresh, args.lookups)
        sizes = await pool.fetchrow(
            "SELECT pg_table_size(c.oid) / 1e6 AS table_mb,"
            " pg_indexes_size(c.oid) / 1e6 AS index_mb"
            " FROM pg_class c JOIN dnc_registries g"
            " ON c.relname = 'dnc_registry_numbers_' || g.generation WHERE g.source = 'us_dnc'"
        )
        workers = [_peak_rss_mb(pid) for pid in parse.worker_pids()]
    finally:
        parse.close()
        await pool.close()
    return {
        "load": load,
        "refresh": refresh,
        "lookup_during_refresh": lookup_during,
        "lookup_after": lookup,
        "generation_mb": {k: round(float(v), 1) for k, v in dict(sizes).items()},
        "worker_rss": workers,
    }


async def _scratch(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    async with scratch_database("dialer_dnc_bench", migrated=False) as url:
        return await _run(url, folder, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--load-only", action="store_true", help="no refresh (largest sizes)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.numbers * 1.1 >= 8_000_000 * len(_NPAS):
        parser.error(f"--numbers: at most {int(8_000_000 * len(_NPAS) / 1.1):,}")
    folder = Path(tempfile.mkdtemp(prefix="dialer-dnc-bench-"))
    try:
        result = asyncio.run(_scratch(args, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {
        "numbers": args.numbers,
        "workers": args.workers,
        **result,
        "worker_rss": None,
        "peak_rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_workers_mb": [round(r, 1) for r in result["worker_rss"] if r is not None],
        "loadavg": Path("/proc/loadavg").read_text().strip(),
    }
    del figures["worker_rss"]
    print_figures(figures, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
